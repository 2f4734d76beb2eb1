"""widen the email column; import legacy coupons through a staging table"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"

coupons = sa.table("coupons", sa.column("id", sa.Integer), sa.column("expires_at", sa.DateTime))


def upgrade():
    op.alter_column("customers", "email", existing_type=sa.VARCHAR(length=255), type_=sa.String(length=320))
    op.alter_column("orders", "note", existing_type=sa.String(200), type_=sa.Text())
    op.alter_column("orders", "total", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(14, 2))
    op.create_table("coupon_import", sa.Column("code", sa.String(32)), sa.Column("expires_at", sa.DateTime))
    op.execute("INSERT INTO coupon_import SELECT code, expires_at FROM legacy_coupons")
    op.alter_column("coupon_import", "code", nullable=False)
    op.drop_table("coupon_import")
    op.execute(coupons.delete().where(coupons.c.expires_at < sa.func.now()))  # expect: delete-rows
    op.create_primary_key("pk_order_items", "order_items", ["order_id", "line"])  # expect: unique-constraint-locks


def downgrade():
    pass
