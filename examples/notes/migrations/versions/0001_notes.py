"""Create the notes table.

Revision ID: 0001_notes
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_notes"
down_revision = None


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.Text, nullable=False))


def downgrade() -> None:
    op.drop_table("notes")
