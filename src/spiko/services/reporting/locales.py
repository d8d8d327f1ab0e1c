"""Words of the account statement in English, French, Spanish, Italian and German; its numbers,
amounts and dates as CLDR writes them in each language (Babel, through ``spiko.i18n``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from spiko import i18n

LOCALES = i18n.LOCALES

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Account statement",
        "investor": "Investor",
        "account": "Account",
        "all_accounts": "All accounts",
        "share_class": "Share class",
        "isin": "ISIN",
        "currency": "Currency",
        "period": "Period",
        "period_range": "from {start} to {end}",
        "generated": "Issued on",
        "summary": "Summary",
        "opening": "Opening position on {day}",
        "closing": "Closing position on {day}",
        "subscriptions": "Subscriptions",
        "redemptions": "Redemptions",
        "transfers": "Transfers",
        "yield": "Yield",
        "realized_gain": "Realized gain (average cost)",
        "unrealized_gain": "Unrealized gain",
        "transferred_gain": "Gain transferred to other investors",
        "opening_unrealized_gain": "Less unrealized gain at opening",
        "total_gain": "Total gain for the period (= yield)",
        "movements": "Movements",
        "no_movements": "No movement during the period.",
        "date": "Date",
        "type": "Type",
        "shares": "Shares",
        "nav": "NAV per share",
        "amount": "Amount",
        "value": "Value",
        "reference": "Reference",
        "monthly_yield": "Yield by month",
        "month": "Month",
        "subscription": "Subscription",
        "redemption": "Redemption",
        "transfer_in": "Transfer in",
        "transfer_out": "Transfer out",
        "reversal": "reversal",
        "corrected": "correction",
        "page": "Page {page}",
        "note": (
            "Positions are valued at the net asset value (NAV) per share of each day, rounded down to "
            "the cent (what a withdrawal of every share would pay). The yield is the change in value "
            "not explained by subscriptions, redemptions and transfers. Gains use the average cost "
            "method."
        ),
    },
    "fr": {
        "title": "Relevé de compte",
        "investor": "Investisseur",
        "account": "Compte",
        "all_accounts": "Tous les comptes",
        "share_class": "Classe de parts",
        "isin": "ISIN",
        "currency": "Devise",
        "period": "Période",
        "period_range": "du {start} au {end}",
        "generated": "Émis le",
        "summary": "Synthèse",
        "opening": "Position d'ouverture au {day}",
        "closing": "Position de clôture au {day}",
        "subscriptions": "Souscriptions",
        "redemptions": "Rachats",
        "transfers": "Transferts",
        "yield": "Rendement",
        "realized_gain": "Plus-value réalisée (coût moyen)",
        "unrealized_gain": "Plus-value latente",
        "transferred_gain": "Plus-value transférée à d'autres investisseurs",
        "opening_unrealized_gain": "Moins plus-value latente à l'ouverture",
        "total_gain": "Gain total de la période (= rendement)",
        "movements": "Mouvements",
        "no_movements": "Aucun mouvement sur la période.",
        "date": "Date",
        "type": "Type",
        "shares": "Parts",
        "nav": "VL par part",
        "amount": "Montant",
        "value": "Valeur",
        "reference": "Référence",
        "monthly_yield": "Rendement par mois",
        "month": "Mois",
        "subscription": "Souscription",
        "redemption": "Rachat",
        "transfer_in": "Transfert reçu",
        "transfer_out": "Transfert émis",
        "reversal": "contre-passation",
        "corrected": "correction",
        "page": "Page {page}",
        "note": (
            "Les positions sont valorisées à la valeur liquidative (VL) par part de chaque jour, "
            "arrondie au centime inférieur (ce que paierait le rachat de toutes les parts). Le "
            "rendement est la variation de valeur non expliquée par les souscriptions, rachats et "
            "transferts. Les plus-values suivent la méthode du coût moyen pondéré."
        ),
    },
    "es": {
        "title": "Extracto de cuenta",
        "investor": "Inversor",
        "account": "Cuenta",
        "all_accounts": "Todas las cuentas",
        "share_class": "Clase de participaciones",
        "isin": "ISIN",
        "currency": "Divisa",
        "period": "Periodo",
        "period_range": "del {start} al {end}",
        "generated": "Emitido el",
        "summary": "Resumen",
        "opening": "Posición inicial al {day}",
        "closing": "Posición final al {day}",
        "subscriptions": "Suscripciones",
        "redemptions": "Reembolsos",
        "transfers": "Traspasos",
        "yield": "Rendimiento",
        "realized_gain": "Ganancia realizada (coste medio)",
        "unrealized_gain": "Ganancia no realizada",
        "transferred_gain": "Ganancia transferida a otros inversores",
        "opening_unrealized_gain": "Menos ganancia no realizada en la apertura",
        "total_gain": "Ganancia total del periodo (= rendimiento)",
        "movements": "Movimientos",
        "no_movements": "Ningún movimiento durante el periodo.",
        "date": "Fecha",
        "type": "Tipo",
        "shares": "Participaciones",
        "nav": "VL por participación",
        "amount": "Importe",
        "value": "Valor",
        "reference": "Referencia",
        "monthly_yield": "Rendimiento por mes",
        "month": "Mes",
        "subscription": "Suscripción",
        "redemption": "Reembolso",
        "transfer_in": "Traspaso recibido",
        "transfer_out": "Traspaso emitido",
        "reversal": "anulación",
        "corrected": "corrección",
        "page": "Página {page}",
        "note": (
            "Las posiciones se valoran al valor liquidativo (VL) por participación de cada día, "
            "redondeado al céntimo inferior (lo que pagaría el reembolso de todas las participaciones). "
            "El rendimiento es la variación de valor no explicada por suscripciones, reembolsos y "
            "traspasos. Las ganancias siguen el método del coste medio."
        ),
    },
    "it": {
        "title": "Estratto conto",
        "investor": "Investitore",
        "account": "Conto",
        "all_accounts": "Tutti i conti",
        "share_class": "Classe di quote",
        "isin": "ISIN",
        "currency": "Valuta",
        "period": "Periodo",
        "period_range": "dal {start} al {end}",
        "generated": "Emesso il",
        "summary": "Riepilogo",
        "opening": "Posizione iniziale al {day}",
        "closing": "Posizione finale al {day}",
        "subscriptions": "Sottoscrizioni",
        "redemptions": "Rimborsi",
        "transfers": "Trasferimenti",
        "yield": "Rendimento",
        "realized_gain": "Plusvalenza realizzata (costo medio)",
        "unrealized_gain": "Plusvalenza latente",
        "transferred_gain": "Plusvalenza trasferita ad altri investitori",
        "opening_unrealized_gain": "Meno plusvalenza latente all'apertura",
        "total_gain": "Guadagno totale del periodo (= rendimento)",
        "movements": "Movimenti",
        "no_movements": "Nessun movimento nel periodo.",
        "date": "Data",
        "type": "Tipo",
        "shares": "Quote",
        "nav": "NAV per quota",
        "amount": "Importo",
        "value": "Valore",
        "reference": "Riferimento",
        "monthly_yield": "Rendimento per mese",
        "month": "Mese",
        "subscription": "Sottoscrizione",
        "redemption": "Rimborso",
        "transfer_in": "Trasferimento ricevuto",
        "transfer_out": "Trasferimento inviato",
        "reversal": "storno",
        "corrected": "rettifica",
        "page": "Pagina {page}",
        "note": (
            "Le posizioni sono valutate al valore netto d'inventario (NAV) per quota di ogni giorno, "
            "arrotondato per difetto al centesimo (quanto pagherebbe il rimborso di tutte le quote). Il "
            "rendimento è la variazione di valore non spiegata da sottoscrizioni, rimborsi e "
            "trasferimenti. Le plusvalenze seguono il metodo del costo medio."
        ),
    },
    "de": {
        "title": "Kontoauszug",
        "investor": "Anleger",
        "account": "Konto",
        "all_accounts": "Alle Konten",
        "share_class": "Anteilsklasse",
        "isin": "ISIN",
        "currency": "Währung",
        "period": "Zeitraum",
        "period_range": "vom {start} bis {end}",
        "generated": "Erstellt am",
        "summary": "Übersicht",
        "opening": "Anfangsbestand am {day}",
        "closing": "Endbestand am {day}",
        "subscriptions": "Zeichnungen",
        "redemptions": "Rücknahmen",
        "transfers": "Übertragungen",
        "yield": "Ertrag",
        "realized_gain": "Realisierter Gewinn (Durchschnittskosten)",
        "unrealized_gain": "Nicht realisierter Gewinn",
        "transferred_gain": "An andere Anleger übertragener Gewinn",
        "opening_unrealized_gain": "Abzüglich nicht realisierter Gewinn zu Beginn",
        "total_gain": "Gesamtgewinn des Zeitraums (= Ertrag)",
        "movements": "Bewegungen",
        "no_movements": "Keine Bewegung im Zeitraum.",
        "date": "Datum",
        "type": "Art",
        "shares": "Anteile",
        "nav": "NAV je Anteil",
        "amount": "Betrag",
        "value": "Wert",
        "reference": "Referenz",
        "monthly_yield": "Ertrag je Monat",
        "month": "Monat",
        "subscription": "Zeichnung",
        "redemption": "Rücknahme",
        "transfer_in": "Übertragung erhalten",
        "transfer_out": "Übertragung gesendet",
        "reversal": "Storno",
        "corrected": "Korrektur",
        "page": "Seite {page}",
        "note": (
            "Bestände werden zum Nettoinventarwert (NAV) je Anteil des jeweiligen Tages bewertet und "
            "auf den Cent abgerundet (was die Rücknahme aller Anteile auszahlen würde). Der Ertrag ist "
            "die Wertänderung, die nicht durch Zeichnungen, Rücknahmen und Übertragungen erklärt ist. "
            "Gewinne folgen der Durchschnittskostenmethode."
        ),
    },
}


# The statement is drawn in the standard Helvetica font (WinAnsi), which has no narrow no-break
# space (U+202F, CLDR's French group and percent separator): the statement uses the no-break space.
_PDF_SPACES = str.maketrans({"\u202f": "\u00a0"})


def format_number(value: Decimal, decimals: int, locale: str) -> str:
    """``value`` with exactly ``decimals`` decimals (half up) and the locale's separators (CLDR)."""
    return i18n.format_number(value, locale, decimals).translate(_PDF_SPACES)


def format_money(value: Decimal, currency: str, locale: str, decimals: int = 2) -> str:
    """An amount as the locale writes it (CLDR): ``€1,234.50`` (en), ``1 234,50 €`` (fr)."""
    return i18n.format_money(value, currency, locale, decimals).translate(_PDF_SPACES)


def format_date(day: date, locale: str) -> str:
    """A date in CLDR's medium style: 28 Nov 2026 (en), 28 nov. 2026 (fr), 28.11.2026 (de)."""
    return i18n.format_date(day, locale, "medium").translate(_PDF_SPACES)


def format_long_date(day: date, locale: str) -> str:
    """A date with the month spelled out: 1 January 2025 (en), 1 de enero de 2025 (es)."""
    return i18n.format_date(day, locale, "long").translate(_PDF_SPACES)


def format_month(day: date, locale: str) -> str:
    """A month and its year: January 2025 (en), enero de 2025 (es)."""
    return i18n.format_month(day, locale).translate(_PDF_SPACES)
