"""The full self-check: all 820 canonical solutions pass, every wrong program gets its expected status."""
import pytest

from humaneval_x.selfcheck import WRONG, format_report, run_self_check

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_self_check_all_languages(data_dir, docker_client):
    report = run_self_check(data_dir=data_dir, show_progress=False)
    print(format_report(report))
    assert report["ok"], format_report(report)
    for lang, r in report["languages"].items():
        assert r["canonical_passed"] == r["canonical_total"] == 164, lang
        assert r["wrong_as_expected"] == r["wrong_total"] == len(WRONG[lang]), lang


def test_original_variant_shows_the_broken_javascript_records(data_dir, docker_client):
    report = run_self_check(["js"], data_dir=data_dir, variant="original", include_wrong=False,
                            show_progress=False)
    failing = sorted(m["task_id"] for m in report["mismatches"])
    assert failing == ["JavaScript/112", "JavaScript/155"]
