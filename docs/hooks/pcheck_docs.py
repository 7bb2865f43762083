"""mkdocs hook: the parts of the site that must not go stale are generated at build time.

* ``<!-- ledger: PREFIX -->``: the table of the ledger entries (and sweeps) whose id starts
  with ``PREFIX``, from :func:`pcheck.ledger.load_claims` (id, statement, origin, expected
  verdict, source, note). ``pcheck verify`` and ``tests/test_claims_builtin.py`` check that
  every entry still returns its expected verdict, so the table is the current verdict.
* ``<!-- figure: NAME -->``: ``figures/NAME.png`` with its claims and its caption, read from
  the caption file ``figures/NAME.txt`` that :mod:`pcheck.harness.plots` writes beside it.
* ``<!-- api: PACKAGE -->``: one mkdocstrings block per module of ``PACKAGE`` (from the
  source tree, so a new module appears without editing the page).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pcheck
from pcheck.ledger import load_claims
from pcheck.sweep import SWEEPS

LEDGER = re.compile(r"<!-- ledger: (\S+) -->")
FIGURE = re.compile(r"<!-- figure: (\S+) -->")
API = re.compile(r"<!-- api: (\S+) -->")
PACKAGE_ROOT = Path(pcheck.__file__).resolve().parent


def escape(text: str) -> str:
    """``text`` safe inside a Markdown table cell (no pipes, emphasis, HTML or line breaks)."""
    text = " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|":
        text = text.replace(ch, "\\" + ch)
    return text


def ledger_table(prefix: str) -> str:
    claims = [c for c in load_claims().values() if c.id.startswith(prefix)]
    sweeps = [s for s in SWEEPS.values() if s.id.startswith(prefix)]
    if not claims and not sweeps:
        raise ValueError(f"no ledger entry starts with {prefix!r}")
    rows = ["| claim | statement | origin | expected verdict | source | note |",
            "|---|---|---|---|---|---|"]
    for c in sorted([*claims, *(s.as_claim() for s in sweeps)], key=lambda c: c.id):
        kind = " (sweep)" if c.id in SWEEPS else ""
        rows.append(f"| `{c.id}`{kind} | {escape(c.statement)} | {c.origin or ''} | **{c.expected}** | "
                    f"{escape(c.source)} | `{Path(c.note).name}` |")
    count = {v: sum(c.expected == v for c in [*claims, *sweeps]) for v in ("holds", "refuted", "open")}
    summary = ", ".join(f"{n} {v}" for v, n in count.items() if n)
    return (f"{len(claims) + len(sweeps)} entries ({summary}), generated from the ledger when this site was "
            "built.\n\n" + "\n".join(rows))


def caption_file(path: Path) -> tuple[str, str]:
    """``(claims, caption)`` of a caption file written by :mod:`pcheck.harness.plots`."""
    lines = path.read_text().splitlines()
    claims = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("claim:"))
    caption = " ".join(line for line in lines[lines.index("") + 1:] if line.strip())
    return claims, caption


def figure_block(name: str, page_uri: str, docs_dir: Path) -> str:
    png, txt = docs_dir / "figures" / f"{name}.png", docs_dir / "figures" / f"{name}.txt"
    if not png.is_file() or not txt.is_file():
        raise FileNotFoundError(f"figure {name!r}: {png} and its caption {txt} must both exist")
    claims, caption = caption_file(txt)
    src = posixpath.relpath(f"figures/{name}.png", posixpath.dirname(page_uri) or ".")
    ids = ", ".join(f"`{c.strip()}`" for c in claims.split(","))
    return f"![{escape(name)}]({src})\n\n**{name}.png** (claim {ids}): {escape(caption)}\n"


def api_block(package: str) -> str:
    folder = PACKAGE_ROOT.joinpath(*package.split(".")[1:])
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    subpackages = sorted(p.name for p in folder.iterdir() if (p / "__init__.py").is_file())
    names = [f"{package}.{m}" for m in modules]
    for sub in subpackages:
        names.append(f"{package}.{sub}")
        names += [f"{package}.{sub}.{p.stem}" for p in sorted((folder / sub).glob("*.py")) if p.stem != "__init__"]
    return "\n\n".join(f"::: {name}" for name in names)


def on_page_markdown(markdown: str, page, config, files) -> str:
    docs_dir = Path(config["docs_dir"])
    markdown = LEDGER.sub(lambda m: ledger_table(m.group(1)), markdown)
    markdown = FIGURE.sub(lambda m: figure_block(m.group(1), page.file.src_uri, docs_dir), markdown)
    return API.sub(lambda m: api_block(m.group(1)), markdown)


#: Sphinx roles in the docstrings (``:func:`pcheck.kinks```), as mkdocstrings renders them.
ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|exc|obj):<code>([\w.]+)</code>")


def role_link(match: re.Match) -> str:
    """A cross-reference for a dotted pcheck name (resolved by mkdocs-autorefs when that
    object is documented, plain code otherwise); plain code for any other name."""
    name = match.group(1)
    if name.startswith("pcheck."):
        return f'<autoref optional identifier="{name}"><code>{name}</code></autoref>'
    return f"<code>{name}</code>"


def on_page_content(html: str, page, config, files) -> str:
    return ROLE.sub(role_link, html)
