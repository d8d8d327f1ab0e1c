"""Investor reporting: account transactions, portfolio, accounting positions, yields and statements."""
