"""The message catalogs: extracting the strings to translate, updating the ``.po`` files, checking them.

Strings are found by Babel in the page templates (``_()``, ``{% trans %}``) and in the Python code
(``_()``, ``N_()``, and ``translate(request, "...")`` and ``translate_plural`` of
``spiko.web.rendering``). Run
``python -m spiko.i18n.catalogs update`` after adding strings: ``messages.pot`` is rewritten and
every language's ``messages.po`` gains the new strings (untranslated) and loses the ones no page
uses any more. ``python -m spiko.i18n.catalogs check`` lists what is missing; a test runs it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from spiko.i18n import CATALOG_DIR, DEFAULT_LOCALE, DOMAIN, LOCALES, catalog_path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = CATALOG_DIR / f"{DOMAIN}.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "translate": (2,), "translate_plural": (2, 3)}
METHODS = [("web/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {
    "web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
}
TRANSLATED_LOCALES = tuple(locale for locale in LOCALES if locale != DEFAULT_LOCALE)


def extract(directory: Path = PACKAGE_DIR) -> Catalog:
    """Every string of the pages and code under ``directory`` (the package) that is shown translated."""
    catalog = Catalog(project="spiko", domain=DOMAIN, charset="utf-8", fuzzy=False)
    found = extract_from_dir(
        directory,
        method_map=METHODS,
        options_map=OPTIONS,
        keywords=KEYWORDS,
        directory_filter=lambda path: "__pycache__" not in path,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(path: Path, catalog: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, ignore_obsolete=True, include_lineno=False, sort_output=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def read(locale: str) -> Catalog:
    with catalog_path(locale).open("rb") as source:
        return read_po(source, locale=locale, domain=DOMAIN)


def update() -> None:
    """Rewrite ``messages.pot`` and merge it into each language's ``messages.po``."""
    template = extract()
    _write(TEMPLATE_PATH, template)
    for locale in TRANSLATED_LOCALES:
        path = catalog_path(locale)
        if path.exists():
            catalog = read(locale)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN, project="spiko", charset="utf-8", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        _write(path, catalog)


def _texts(string: str | tuple[str, ...] | list[str] | None) -> list[str]:
    return list(string) if isinstance(string, tuple | list) else [string or ""]


def problems(directory: Path = PACKAGE_DIR) -> Iterator[str]:
    """Each string that some language does not translate (missing, empty or fuzzy), and each
    translation whose placeholders differ from its original's."""
    wanted = [message for message in extract(directory) if message.id]
    for locale in TRANSLATED_LOCALES:
        catalog = read(locale)
        for message in wanted:
            translated = catalog.get(message.id, message.context)
            key = message.id if isinstance(message.id, str) else message.id[0]
            if translated is None:
                yield f"{locale}: missing {key!r}"
            elif translated.fuzzy or not all(_texts(translated.string)):
                yield f"{locale}: not translated {key!r}"
        for message, errors in catalog.check():
            for error in errors:
                yield f"{locale}: {message.id!r}: {error}"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return 0
    if command == "check":
        found = list(problems())
        for line in found:
            print(line)
        return 1 if found else 0
    print("usage: python -m spiko.i18n.catalogs update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
