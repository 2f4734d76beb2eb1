"""index status"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade():
    with op.get_context().autocommit_block():  # expect: non-transactional
        op.create_index("ix_orders_status", "orders", ["status"], postgresql_concurrently=True, if_not_exists=True)


def downgrade():
    pass
