"""cleanup sessions"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade():
    op.create_table("sessions", sa.Column("id", sa.Text(), primary_key=True))
    _purge(op.get_bind())


def _purge(conn):
    conn.execute(sa.text("DELETE FROM sessions WHERE created_at < now() - interval '30 days'"))  # expect: delete-rows
    conn.execute(sa.text("DELETE FROM sessions"))  # expect: raw-sql-destructive


def downgrade():
    pass
