"""validate fk"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade():
    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_coupon")


def downgrade():
    pass
