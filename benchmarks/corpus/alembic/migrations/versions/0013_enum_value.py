"""enum value"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade():
    with op.get_context().autocommit_block():  # expect: non-transactional
        op.execute("ALTER TYPE order_status ADD VALUE 'refunded'")


def downgrade():
    pass
