"""Each target's canonical solution fed as the "translation" passes in all 30 pairs of the six languages
(the paper's 20 and Rust's 10; real sandboxes)."""
import pytest

from humaneval_x.selfcheck import format_translation_report, run_translation_self_check

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_canonical_as_translation_passes_in_all_30_pairs(data_dir, docker_client):
    report = run_translation_self_check("all6", data_dir=data_dir, show_progress=False)
    assert report["ok"], format_translation_report(report)
    assert len(report["pairs"]) == 30
    assert all(c == {"total": 164, "passed": 164} for c in report["pairs"].values())
