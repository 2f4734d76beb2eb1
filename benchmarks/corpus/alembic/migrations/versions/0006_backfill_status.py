"""backfill status"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade():
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE orders SET status = 'open' WHERE status IS NULL"))


def downgrade():
    pass
