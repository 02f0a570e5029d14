
# --- appended by docs/site/build.sh ------------------------------------------
extensions.append('myst_parser')
intersphinx_mapping = {}
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
exclude_patterns = ['_include/**']
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']
html_copy_source = False
# Fences without a language (diagrams, shell lines) are not YAML+Jinja.
highlight_language = 'none'
# The theme's logo links to "/" by default, which is no page of a site opened from disk or a sub-path.
html_theme_options = {'documentation_home_url': 'https://docs.ansible.com/'}
