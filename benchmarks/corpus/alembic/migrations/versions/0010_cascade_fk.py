"""cascade fk"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade():
    op.drop_constraint("fk_orders_user", "orders", type_="foreignkey")
    op.create_foreign_key(  # expect: constraint-full-scan
        "fk_orders_user", "orders", "users", ["user_id"], ["id"], ondelete="CASCADE"
    )


def downgrade():
    pass
