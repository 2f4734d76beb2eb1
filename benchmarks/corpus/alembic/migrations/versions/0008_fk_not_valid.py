"""fk not valid"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade():
    op.add_column("orders", sa.Column("coupon_id", sa.BigInteger(), nullable=True))
    op.create_table("coupons", sa.Column("id", sa.BigInteger(), primary_key=True))
    op.create_foreign_key("fk_orders_coupon", "orders", "coupons", ["coupon_id"], ["id"], postgresql_not_valid=True)


def downgrade():
    pass
