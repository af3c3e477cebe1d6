import gzip
import json
import shutil

import pytest

from humaneval_x import dataset
from humaneval_x.errors import DatasetError


def test_loads_all_820(problems):
    assert len(problems) == 820
    for prefix in ("Python", "CPP", "Java", "JavaScript", "Go"):
        assert sum(t.startswith(prefix + "/") for t in problems) == 164
    assert problems["Go/0"].extra["test_setup"].startswith("package main")
    assert "text" in problems["Java/0"].extra


def test_pinned_checksums_match_the_test_copy(data_dir):
    from pathlib import Path
    assert set(dataset.verify_data_dir(Path(data_dir)).values()) == {"ok"}


def test_errata_fix_known_broken_records_and_original_keeps_them(data_dir):
    fixed = dataset.load_problems(["js", "python", "go"], data_dir=data_dir, variant="errata-v1")
    orig = dataset.load_problems(["js", "python", "go"], data_dir=data_dir, variant="original")
    assert "return (z, false)" in orig["JavaScript/112"].canonical_solution
    assert "return [t, false]" in fixed["JavaScript/112"].canonical_solution
    assert "[1, 0]" in fixed["JavaScript/155"].canonical_solution
    assert orig["Python/142"].declaration.endswith('"\n')
    assert fixed["Python/142"].declaration == "def sum_squares(lst):\n"
    # everything else is untouched
    changed = [t for t in fixed if fixed[t] != orig[t]]
    assert sorted(changed) == ["Go/95", "JavaScript/112", "JavaScript/155", "Python/142"]


def test_errata_fail_loudly_when_text_is_not_found():
    recs = {"JavaScript/112": {"canonical_solution": "something else"}}
    with pytest.raises(DatasetError, match="not found exactly once"):
        dataset.apply_errata(recs, dataset.load_errata())


def _copy_data(data_dir, tmp_path):
    for f in dataset.load_manifest()["files"].values():
        shutil.copy(f"{data_dir}/{f['file']}", tmp_path / f["file"])


def test_schema_validation_reports_the_bad_record(data_dir, tmp_path):
    _copy_data(data_dir, tmp_path)
    path = tmp_path / "humaneval_cpp.jsonl.gz"
    with gzip.open(path, "rt") as f:
        recs = [json.loads(l) for l in f]
    del recs[7]["test"]
    with gzip.open(path, "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in recs))
    with pytest.raises(DatasetError, match="record 7 lacks"):
        dataset.load_problems(["cpp"], data_dir=str(tmp_path))
    with gzip.open(path, "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in recs[:10]))
    with pytest.raises(DatasetError, match="10 records, expected 164"):
        dataset.load_problems(["cpp"], data_dir=str(tmp_path))


def test_source_order_env_then_download(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(dataset.DATA_ENV, data_dir)
    assert str(dataset.resolve_data_dir()) == data_dir
    monkeypatch.delenv(dataset.DATA_ENV)
    # download from a local mirror (file:// URL), verified against the pinned sha256
    mirror = tmp_path / "mirror"
    for lang, f in dataset.load_manifest()["files"].items():
        (mirror / lang).mkdir(parents=True)
        shutil.copy(f"{data_dir}/{f['file']}", mirror / lang / f["file"])
    manifest = dataset.load_manifest()
    manifest["url_pattern"] = f"file://{mirror}/{{lang}}/humaneval_{{lang}}.jsonl.gz"
    monkeypatch.setattr(dataset, "load_manifest", lambda: manifest)
    monkeypatch.setenv("HUMANEVAL_X_CACHE", str(tmp_path / "cache"))
    got = dataset.resolve_data_dir()
    assert got.is_relative_to(tmp_path / "cache")
    assert set(dataset.verify_data_dir(got).values()) == {"ok"}


def test_download_rejects_a_wrong_checksum(data_dir, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    manifest = dataset.load_manifest()
    for lang, f in manifest["files"].items():
        (mirror / lang).mkdir(parents=True)
        shutil.copy(f"{data_dir}/{f['file']}", mirror / lang / f["file"])
    (mirror / "go" / "humaneval_go.jsonl.gz").write_bytes(b"tampered")
    manifest["url_pattern"] = f"file://{mirror}/{{lang}}/humaneval_{{lang}}.jsonl.gz"
    with pytest.raises(DatasetError, match="sha256"):
        dataset.download_dataset(tmp_path / "out", manifest)
    assert not (tmp_path / "out" / "humaneval_go.jsonl.gz").exists()


def test_unknown_variant_and_missing_dir():
    with pytest.raises(DatasetError, match="variant"):
        dataset.load_problems(variant="v2")
    with pytest.raises(DatasetError, match="not a directory"):
        dataset.resolve_data_dir("/nonexistent/folder")


def test_data_verify_says_where_it_looked_when_files_are_not_the_pinned_ones(data_dir, tmp_path, capsys):
    from humaneval_x.cli import main
    shutil.copy(f"{data_dir}/humaneval_python.jsonl.gz", tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["data", "verify", "--data-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert exc.value.code == 1 and out.splitlines()[0].split() == ["python", "ok"] and "missing" in out
    assert len(err.strip().splitlines()) == 1 and str(tmp_path) in err and "data download" in err, err
    main(["data", "verify", "--data-dir", data_dir])  # all pinned: exit 0, nothing on stderr
    assert capsys.readouterr().err == ""
