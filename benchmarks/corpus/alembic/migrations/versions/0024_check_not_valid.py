"""check not valid"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"


def upgrade():
    op.create_check_constraint("ck_orders_amount_positive", "orders", "amount_cents >= 0", postgresql_not_valid=True)


def downgrade():
    pass
