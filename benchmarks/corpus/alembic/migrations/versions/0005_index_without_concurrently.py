"""index without concurrently"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade():
    op.create_index("ix_orders_total", "orders", ["total_cents"])  # expect: index-locks-writes


def downgrade():
    pass
