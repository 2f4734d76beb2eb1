"""rename total"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"


def upgrade():
    op.alter_column("orders", column_name="total_cents", new_column_name="amount_cents")  # expect: rename-column


def downgrade():
    pass
