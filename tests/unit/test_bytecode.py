"""deploy_actions.bytecode's store: atomic, bounded, and silent when it cannot write."""

import marshal

from deploy_actions import bytecode


def test_a_full_folder_is_emptied_before_the_next_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(bytecode, "_folder", str(tmp_path))
    monkeypatch.setattr(bytecode, "KEEP", 3)
    for n in range(4):
        (tmp_path / f"old{n}.pyc").write_bytes(b"x")
    code = compile("x = 1", "m.py", "exec")
    bytecode.store(str(tmp_path / "new.pyc"), code)
    assert [p.name for p in tmp_path.iterdir()] == ["new.pyc"]
    data = (tmp_path / "new.pyc").read_bytes()
    assert data[:4] == bytecode.MAGIC_NUMBER and marshal.loads(data[4:]) == code


def test_a_folder_that_cannot_be_written_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(bytecode, "_folder", str(tmp_path / "gone"))
    bytecode.store(str(tmp_path / "gone" / "new.pyc"), compile("", "m.py", "exec"))  # no exception
    assert list(tmp_path.iterdir()) == []


def test_outside_the_bootstrap_s_environment_nothing_changes(tmp_path):
    assert bytecode.install(str(tmp_path), str(tmp_path / "absent")) is False
