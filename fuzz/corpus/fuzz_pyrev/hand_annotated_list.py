revision: str = r'r2' 'b'
down_revision: Union[str, None] = ['a', "b",]
def upgrade() -> None:
    op.drop_table('x')
