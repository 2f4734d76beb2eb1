"""helpers"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"


def upgrade():
    _add_flags("users")
    _drop_old_index()


def _add_flags(table):
    op.add_column(table, sa.Column("flags", sa.Integer(), nullable=False))  # expect: not-null-without-default


def _drop_old_index():
    op.drop_index("ix_orders_total", table_name="orders")  # expect: drop-index


def downgrade():
    pass
