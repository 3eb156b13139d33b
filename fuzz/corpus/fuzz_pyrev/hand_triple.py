'''
Revises: 
'''
revision = '''r3'''
down_revision = u'x' # comment
revision == 'no'
