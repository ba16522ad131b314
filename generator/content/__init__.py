"""What signals write into runbooks, as plain data: page content, Markdown text, and links to queries and pages."""
