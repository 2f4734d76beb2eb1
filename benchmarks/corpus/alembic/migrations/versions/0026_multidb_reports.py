"""reports database: drop the unused column (multidb template)"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"


def upgrade(engine_name: str = "") -> None:
    globals()[f"upgrade_{engine_name}"]()


def downgrade(engine_name: str = "") -> None:
    globals()[f"downgrade_{engine_name}"]()


def upgrade_reports() -> None:
    op.drop_column("daily_totals", "legacy_sum")  # expect: drop-column


def downgrade_reports() -> None:
    op.add_column("daily_totals", sa.Column("legacy_sum", sa.Integer()))
