"""Record when a note was written (nullable with a server default: safe on a live table).

Revision ID: 0002_created_at
Revises: 0001_notes
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_created_at"
down_revision = "0001_notes"


def upgrade() -> None:
    op.add_column("notes", sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()))


def downgrade() -> None:
    op.drop_column("notes", "created_at")
