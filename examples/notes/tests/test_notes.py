"""Unit tests of the service's pure parts (run by backend-ci.yml: no database needed)."""

import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

import notes  # noqa: E402


class MigrationHead(unittest.TestCase):
    def test_the_shipped_migrations_have_one_head(self):
        self.assertEqual(notes.migration_head(), "0002_created_at")

    def test_two_heads_refuse_to_start(self):
        with tempfile.TemporaryDirectory() as folder:
            for name, parent in (("a", None), ("b", "a"), ("c", "a")):
                Path(folder, f"{name}.py").write_text(f"revision = {name!r}\ndown_revision = {parent!r}\n")
            with self.assertRaises(SystemExit):
                notes.migration_head(Path(folder))


class Readiness(unittest.TestCase):
    def test_not_ready_without_a_database_url(self):
        self.assertEqual(notes.readiness(None, "x"), (False, f"{notes.URL_VARIABLE} is not set"))

    def test_not_ready_when_the_database_is_unreachable(self):
        ok, reason = notes.readiness("postgresql://u:p@127.0.0.1:1/db", "x")
        self.assertFalse(ok)
        self.assertIn("database unreachable", reason)


if __name__ == "__main__":
    unittest.main()
