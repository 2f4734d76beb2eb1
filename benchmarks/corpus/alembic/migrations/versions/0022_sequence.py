"""sequence"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"


def upgrade():
    op.execute(sa.schema.DropSequence(sa.Sequence("legacy_order_numbers")))  # expect: raw-sql-destructive


def downgrade():
    pass
