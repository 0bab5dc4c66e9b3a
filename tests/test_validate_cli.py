"""`kg validate` as data teams run it: targets, formats, exit codes, and docs/ci.md's example.

The commands run in-process (`kg.cli.main`) on real files: the seed articles, the example data
repository tests/fixtures/validate/data-repo (a reference table and articles with mistakes, see
docs/ci.md) and its clean copy. The validation day is pinned with `--today` so that "in the
future" does not depend on when the tests run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "validate"
DATA_REPO = FIXTURES / "data-repo"
CI_DOC = ROOT / "docs" / "ci.md"
TODAY = ["--today", "2025-06-30"]
BROKEN = "articles/2023-03-13-anusauskas-warsaw.txt"
REZNIKOV = FIXTURES / "articles" / "2023-01-12-reznikov-warsaw.txt"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def data_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example data repository, as the working directory."""
    repo = tmp_path / "data-repo"
    shutil.copytree(DATA_REPO, repo)
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture()
def clean_reference(data_repo: Path) -> Path:
    """The example's reference tables without the mistaken entry (Šakalienė's)."""
    officials = data_repo / "reference" / "officials.yaml"
    text = officials.read_text(encoding="utf-8")
    officials.write_text(text[: text.index("\n- key: dovile-sakaliene")] + "\n", encoding="utf-8")
    return data_repo / "reference"


def blocks(text: str) -> list[list[str]]:
    return [b.splitlines() for b in text.split("\n\n")]


# -- targets and exit codes -----------------------------------------------------------------


def test_an_article_file_that_conforms_exits_0_without_a_build(capsys, clean_reference) -> None:
    code, out, _ = run(
        capsys, "--article", "articles/2023-07-20-blaszczak-vilnius.txt",
        "--reference", str(clean_reference), *TODAY,
    )  # fmt: skip
    assert (code, out) == (0, "Checked 1 article graph(s), 6 reference table(s).\n"
                              "0 violations, 0 warnings\n")  # fmt: skip
    assert not Path("build").exists()


def test_a_broken_article_file_exits_1_naming_the_line_column_and_words(
    capsys, clean_reference
) -> None:
    code, out, _ = run(capsys, "--article", BROKEN, "--reference", str(clean_reference), *TODAY)
    assert code == 1
    violation, *warnings, summary = blocks(out)
    assert violation[:6] == [
        "Violation in article 2023-03-13-anusauskas-warsaw "
        "<https://w3id.org/dkg/id/article/2023-03-13-anusauskas-warsaw>",
        f"  file:       {BROKEN}:10:1",
        "  evidence:   “Anušauskas met Polish Defence Minister Mariusz Błaszczak in Warsaw on…”",
        "  focus node: https://w3id.org/dkg/id/meeting/157689d65609a35e",
        "  path:       dkg:startDate",
        "  constraint: SPARQLConstraintComponent (shape dkgsh:DateNotInFutureShape)",
    ]
    assert violation[-1] == (
        "  message:    The date 2033-03-13 is after the validation day 2025-06-30: the graph "
        "records what has happened (a mistyped year? a relative date resolved from the wrong "
        "day?)."
    )
    values = [next(line for line in w if line.startswith("  value:")) for w in warnings]
    assert [
        w[0].split()[0] + " " + v.split()[-1] for w, v in zip(warnings, values, strict=True)
    ] == [
        "Warning <https://w3id.org/dkg/id/official/arvydas-anusauskas>",
        "Warning <https://w3id.org/dkg/id/official/mariusz-blaszczak>",
    ]
    assert summary[-1] == "1 violations, 2 warnings"


def test_the_pyshacl_engine_prints_the_same_report_as_the_compiled_one(
    capsys, clean_reference
) -> None:
    argv = ["--article", BROKEN, "--reference", str(clean_reference), *TODAY]
    compiled = run(capsys, *argv)
    reference = run(capsys, *argv, "--engine", "pyshacl")
    run(capsys, *argv, "--engine", "compiled")  # back to the default for the other tests
    assert compiled[0] == 1
    assert reference == compiled


def test_an_unknown_engine_is_a_usage_error(capsys) -> None:
    code, _, err = run(capsys, "--engine", "fast")
    assert code == 2
    assert "argument --engine: invalid choice: 'fast'" in err


def test_warnings_alone_exit_0_and_exit_1_with_fail_on_warning(capsys, clean_reference) -> None:
    argv = ["--article", str(REZNIKOV), "--reference", str(clean_reference), *TODAY]
    code, out, _ = run(capsys, *argv)
    assert (code, out.splitlines()[-1]) == (0, "0 violations, 1 warnings")
    assert "focus node: https://w3id.org/dkg/id/official/oleksii-reznikov" in out
    assert run(capsys, *argv, "--fail-on", "warning")[0] == 1


def test_reference_tables_exit_1_with_the_table_and_line_of_each_finding(capsys, data_repo) -> None:
    code, out, _ = run(capsys, "--reference", "reference", "--format", "json", *TODAY)
    report = json.loads(out)
    assert code == 1
    assert [(r["file"], r["line"], r["constraint"], r["value"]) for r in report["results"]] == [
        ("reference/officials.yaml", 15, "SPARQLConstraintComponent",
         "<http://www.wikidata.org/entity/Q3672207>"),
        ("reference/officials.yaml", 24, "SPARQLConstraintComponent",
         "<http://www.wikidata.org/entity/Q3672207>"),
        ("reference/officials.yaml", 28, "UnknownKey", '"lt-minister-of-defence"'),
    ]  # fmt: skip
    assert (report["conforms"], report["violations"], report["warnings"]) == (False, 3, 0)


def test_a_curation_file_that_does_not_fit_its_article_exits_1_naming_the_entry(
    capsys, clean_reference
) -> None:
    code, out, _ = run(
        capsys, "--curation", "curation", "--articles", "articles",
        "--reference", str(clean_reference), "--format", "json", *TODAY,
    )  # fmt: skip
    report = json.loads(out)
    assert code == 1
    curation = [r for r in report["results"] if r["constraint"] == "CurationCheck"]
    assert [(r["file"], r["severity"], r["message"]) for r in curation] == [
        (
            "curation/2023-07-20-blaszczak-vilnius.yaml",
            "Violation",
            "statements.remove[1]: no statement whose quote contains 'the bloc members were "
            "planning' to remove",
        )
    ]
    assert {c["kind"] for c in report["checked"]} == {"curation", "reference"}


def test_a_curation_file_without_its_article_is_a_violation(capsys, clean_reference) -> None:
    Path("curation/2099-01-01-nowhere.yaml").write_text("note: for no article\n", "utf-8")
    code, out, _ = run(
        capsys, "--curation", "curation", "--articles", "articles",
        "--reference", str(clean_reference), "--format", "json", *TODAY,
    )  # fmt: skip
    messages = {r["file"]: r["message"] for r in json.loads(out)["results"]}
    assert code == 1
    assert messages["curation/2099-01-01-nowhere.yaml"] == (
        "no article '2099-01-01-nowhere' in articles (.txt or .md)"
    )


def test_junit_report_for_ci_has_a_testcase_per_article_and_table(capsys, data_repo) -> None:
    code, out, _ = run(
        capsys, "--article", BROKEN, "--article", "articles/2023-07-20-blaszczak-vilnius.txt",
        "--reference", "reference", "--format", "junit", *TODAY,
    )  # fmt: skip
    root = ET.fromstring(out)
    outcomes = {
        case.get("name"): "failure" if case.find("failure") is not None else "pass"
        for case in root.iter("testcase")
    }
    assert code == 1
    assert (root.get("tests"), root.get("failures")) == ("8", "2")
    assert outcomes == {
        "2023-03-13-anusauskas-warsaw": "failure",
        "2023-07-20-blaszczak-vilnius": "pass",
        "states.csv": "pass",
        "organisations.yaml": "pass",
        "post-kinds.yaml": "pass",
        "posts.yaml": "pass",
        "officials.yaml": "failure",
        "places.yaml": "pass",
    }


def test_junit_file_is_written_beside_the_printed_report(capsys, clean_reference) -> None:
    code, out, _ = run(
        capsys, "--article", str(REZNIKOV), "--reference", str(clean_reference),
        "--junit", "reports/kg-validate.xml", "--fail-on", "warning", *TODAY,
    )  # fmt: skip
    root = ET.parse("reports/kg-validate.xml").getroot()
    [failure] = root.iter("failure")
    assert code == 1 and out.endswith("0 violations, 1 warnings\n")
    assert (failure.get("type"), failure.get("message")) == ("Warning", "0 violations, 1 warnings")


def test_the_ontology_check_passes_on_the_project_files(capsys) -> None:
    code, out, _ = run(capsys, "--ontology")
    assert (code, out) == (0, "Checked 1 ontology file(s).\n0 violations, 0 warnings\n")


def test_an_article_that_cannot_be_read_exits_2_naming_the_file(capsys, tmp_path) -> None:
    bad = tmp_path / "broken.txt"
    bad.write_bytes("Błaszczak".encode("cp1250"))
    code, out, err = run(capsys, "--article", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"kg validate: error: {bad}:1: not UTF-8")


def test_a_missing_reference_folder_exits_2(capsys, tmp_path) -> None:
    code, _, err = run(capsys, "--reference", str(tmp_path / "nope"))
    assert code == 2
    assert err == f"kg validate: error: {tmp_path / 'nope'}: no such reference folder\n"


def test_a_validation_day_that_is_not_a_date_is_a_usage_error(capsys) -> None:
    code, _, err = run(capsys, "--ontology", "--today", "30.06.2025")
    assert code == 2
    assert "argument --today: '30.06.2025' is not a date (YYYY-MM-DD)" in err


def test_results_of_a_built_graph_point_into_the_article_files(capsys, clean_reference) -> None:
    assert main(["build", "--articles", "articles", "--reference", str(clean_reference),
                 "--out", "build"]) == 1  # fmt: skip
    capsys.readouterr()
    code, out, _ = run(
        capsys, "--out", "build", "--articles", "articles", "--format", "json", *TODAY
    )
    report = json.loads(out)
    assert code == 1
    assert {(r["file"], r["line"], r["column"], r["severity"]) for r in report["results"]} == {
        (BROKEN, 10, 1, "Violation"),
        (BROKEN, 10, 1, "Warning"),
    }
    assert sorted(c["name"] for c in report["checked"] if c["kind"] == "article") == [
        "2023-03-13-anusauskas-warsaw",
        "2023-07-20-blaszczak-vilnius",
    ]


# -- docs/ci.md: its workflow file and its example are the real ones --------------------------

_FILE = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```\n", re.S)
_EXAMPLE = re.compile(
    r"<!-- example: (\S+) exit (\d) -->\n```console\n(.*?)```\n\n```text\n(.*?)```\n", re.S
)
_EXCERPT = re.compile(r"<!-- excerpt of (\S+) -->\n```xml\n(.*?)```\n", re.S)
UPDATE = os.environ.get("DKG_UPDATE_DOCS") == "1"


def _refresh(pattern: re.Pattern[str], group: int, new: str) -> None:
    text = CI_DOC.read_text(encoding="utf-8")
    match = pattern.search(text)
    assert match is not None
    start, end = match.span(group)
    CI_DOC.write_text(text[:start] + new + text[end:], encoding="utf-8")


def test_docs_ci_workflow_is_the_example_repositorys_workflow_file() -> None:
    match = _FILE.search(CI_DOC.read_text(encoding="utf-8"))
    assert match is not None, "docs/ci.md has no <!-- file: ... --> block"
    actual = (ROOT / match.group(1)).read_text(encoding="utf-8")
    if UPDATE:
        _refresh(_FILE, 2, actual)
        return
    assert match.group(2) == actual


def _skeleton(xml: str) -> str:
    """The lines of an XML report that open or close elements; "…" where text was left out."""
    lines, skipped = [], False
    for line in xml.splitlines():
        if line.lstrip().startswith("<"):
            if skipped:
                lines.append("…")
            lines.append(line)
            skipped = False
        else:
            skipped = True
    return "\n".join(lines) + "\n"


def test_docs_ci_worked_example_is_the_output_of_a_real_run(capsys, data_repo) -> None:
    text = CI_DOC.read_text(encoding="utf-8")
    example = _EXAMPLE.search(text)
    assert example is not None, "docs/ci.md has no <!-- example: ... --> block"
    assert Path(example.group(1)) == DATA_REPO.relative_to(ROOT)
    codes = []
    for line in example.group(3).splitlines():
        argv = shlex.split(line.removeprefix("$ "))
        assert argv[0] == "kg"
        codes.append(main(argv[1:]))
        output = capsys.readouterr().out
    excerpt = _EXCERPT.search(text)
    assert excerpt is not None
    junit = (data_repo / excerpt.group(1)).read_text(encoding="utf-8")
    if UPDATE:
        _refresh(_EXAMPLE, 4, output)
        _refresh(_EXCERPT, 2, _skeleton(junit))
        return
    assert codes[-1] == int(example.group(2))
    assert example.group(4) == output
    shown = [line for line in excerpt.group(2).splitlines() if line != "…"]
    lines = iter(junit.splitlines())
    assert all(line in lines for line in shown), "the JUnit excerpt is not in the real report"


def test_project_ci_runs_make_test_and_keeps_the_data_validation_as_junit() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    runs = {
        job: [step.get("run", "") for step in spec["steps"]]
        for job, spec in workflow["jobs"].items()
    }
    assert "make test" in runs["test"]
    validate = next(r for r in runs["data"] if "kg validate" in r)
    argv = shlex.split(validate.replace("\\\n", " "))
    assert argv[argv.index("--junit") + 1] == "build/kg-validate.xml"
    assert {"--out", "--reference", "--curation", "--ontology"} <= set(argv)
    [upload] = [
        s for s in workflow["jobs"]["data"]["steps"] if "upload-artifact" in s.get("uses", "")
    ]
    assert upload["with"]["path"] == "build/kg-validate.xml"
