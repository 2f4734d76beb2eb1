"""temp table dedupe"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade():
    op.execute(
        """
        CREATE TEMP TABLE dup_users AS SELECT min(id) AS keep, email FROM users GROUP BY email;
        UPDATE orders SET user_id = d.keep FROM dup_users d JOIN users u ON u.email = d.email WHERE orders.user_id = u.id;
        DROP TABLE dup_users;
        """
    )


def downgrade():
    pass
