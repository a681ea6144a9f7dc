"""The metrics' multiprocess folder (adapters.metrics): emptied of the values of an
earlier start, and of nothing else, even when the operator named the folder."""

from __future__ import annotations

from adapters import metrics


def test_a_start_removes_only_the_metric_files_of_earlier_processes(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    ours = tmp_path / "var" / "prometheus"
    assert metrics.prepare_multiprocess(ours) == ours and ours.is_dir()

    operators = tmp_path / "operators"
    operators.mkdir()
    (operators / "counter_123.db").write_bytes(b"old values")
    (operators / "notes.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(operators))
    assert metrics.prepare_multiprocess(ours) == operators
    assert not (operators / "counter_123.db").exists()
    assert (operators / "notes.txt").read_text() == "not ours"
