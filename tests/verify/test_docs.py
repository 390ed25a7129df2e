"""The docs say what the code does: every parameter a page lists (its ``--param`` table and every ``--param NAME=VALUE``
in its text) is accepted by the command line and by the builder, and every parameter a claim accepts is listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verify import __main__ as cli
from verify import docs_status as ds
from verify.registry import load_all

ROOT = Path(__file__).resolve().parents[2]
REG = load_all()
PAGES: dict[str, list] = {}
for _c in REG.values():
    PAGES.setdefault(_c.doc, []).append(_c)


@pytest.mark.parametrize("doc", sorted(PAGES))
def test_parameter_tables_list_exactly_what_the_claim_accepts(doc):
    listed = ds.page_param_names((ROOT / doc).read_text())
    for c in PAGES[doc]:
        assert c.id in listed, f"{doc} has no parameter table for {c.id}"
        accepted = list(c.params) + list(c.switches)
        assert sorted(listed[c.id]) == sorted(accepted), f"{doc}: table {listed[c.id]} vs claim {accepted}"
        for k in listed[c.id]:  # each listed name goes through the CLI parser at its default value
            v = c.params.get(k, c.switches.get(k))
            if v is None:
                continue
            assert cli.parse_params([f"{k}={v}"], [c]) == {k: v}


def _mentions(text: str):
    return re.findall(r"--param ([A-Za-z_0-9]+)=([^\s`),;\"]+)", text)


def test_every_param_mentioned_in_the_docs_is_accepted():
    pages = [p for p in (ROOT / "docs").rglob("*.md")] + [ROOT / "README.md"]
    tried = 0
    built = set()  # (claim, parameters) already built: a mention repeated across pages is built once
    for p in pages:
        text = p.read_text()
        claims = PAGES.get(str(p.relative_to(ROOT)), [])
        for line in text.splitlines():
            ids = re.findall(r"--claim ([A-Za-z0-9.\-]+)", line) + re.findall(r"inspect ([A-Za-z0-9.\-]+)", line)
            sel = [REG[i] for i in ids if i in REG] or claims or list(REG.values())
            for k, v in _mentions(line):
                if v in ("NAME=VALUE", "VALUE", "v", "VAL") or k in ("NAME", "k", "name"):
                    continue
                try:
                    parsed = cli.parse_params([f"{k}={v}"], sel)
                except cli.UsageError as e:
                    pytest.fail(f"{p.relative_to(ROOT)}: '--param {k}={v}' is refused: {e}")
                tried += 1
                for c in sel:  # a paper parameter must also be accepted by the builder
                    if k in c.params and c.build is not None and c.id != "lemma-3.3":
                        key = (c.id, tuple(sorted((kk, repr(vv)) for kk, vv in parsed.items())))
                        if key in built:
                            continue
                        built.add(key)
                        try:
                            c.build({**c.params, **parsed})
                        except (ValueError, TypeError) as e:
                            pytest.fail(f"{p.relative_to(ROOT)}: '--param {k}={v}' rejected by {c.id}'s builder: {e}")
    assert tried >= 5


def test_the_check_fails_on_an_undocumented_or_refused_parameter(tmp_path):
    """The table reader sees a missing name and a name the claim does not accept."""
    c = REG["lemma-F.3-square"]
    page = ds.PARAMS_HEADING + "\n\n### `lemma-F.3-square`\n\n| name | default |\n|---|---|\n| `m` | 8 |\n| `outside` | 1 |\n"
    listed = ds.page_param_names(page)["lemma-F.3-square"]
    assert sorted(listed) != sorted(list(c.params) + list(c.switches))
    with pytest.raises(cli.UsageError):
        cli.parse_params(["outside=1"], [c])


def test_index_status_table_is_generated_and_lists_every_claim():
    text = (ROOT / "docs" / "index.md").read_text()
    assert ds.BEGIN in text and ds.END in text
    assert sorted(ds.block_claims(text)) == sorted(REG), "re-run python -m verify docs-status REPORT.json"


def test_docs_status_rewrites_only_the_block_and_refuses_a_page_without_markers(tmp_path):
    rep = {"schema": "verify-report/1", "meta": {"seed": 0, "wall_seconds": 1.0, "jobs": 2},
           "results": [{"claim": "lemma-F.3-square", "verdict": "CERTIFIED", "seconds": 0.1,
                        "checks": [{"name": "c", "status": "PASS", "measured": 1e-6, "bound": 2e-6}]}]}
    page = tmp_path / "index.md"
    page.write_text(f"before\n{ds.BEGIN}\nold\n{ds.END}\nafter\n")
    out = ds.update_index(page, rep)
    assert out.startswith("before\n") and out.endswith("after\n") and "old" not in out
    assert "| `lemma-F.3-square` | CERTIFIED | 1e-06 / 2e-06 | 0.1 |" in out
    (tmp_path / "bare.md").write_text("no markers\n")
    with pytest.raises(ds.StatusError):
        ds.update_index(tmp_path / "bare.md", rep)
