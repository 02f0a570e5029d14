# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: multicloud.secgroup developers
"""The tarball of `ansible-galaxy collection build` (run by `make build`): it holds exactly the repository's files
that users need, by the rules below (docs/development.md, "What the collection tarball ships"), and nothing from the
development side; its Markdown reads correctly; its playbooks pass a syntax check once installed."""

import os
import subprocess
import sys
import tarfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mdlinks  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

# First match wins: (prefix or exact path, shipped?). A tracked file that matches none fails the test, so each new
# top-level entry is classified on purpose.
RULES = (
    ('.ci/', False), ('scripts/', False), ('benchmarks/', False), ('Makefile', False), ('pytest.ini', False),
    ('.gitignore', False), ('.ansible-lint', False), ('galaxy.yml', False),
    ('docs/site/', False), ('docs/requirements.txt', False), ('changelogs/fragments/', False),
    ('tests/artifact/', False), ('tests/awx/', False), ('tests/chaos/', False), ('tests/concurrency/', False),
    ('tests/demo/', False), ('tests/eda/', False), ('tests/emulator_tests/', False), ('tests/live/', False), ('tests/module_defaults/', False),
    ('tests/playbooks/', False), ('tests/secrets/', False), ('tests/requirements-sdk.txt', False),
    ('plugins/', True), ('roles/', True), ('playbooks/', True), ('meta/', True), ('docs/', True),
    ('extensions/', True), ('changelogs/', True), ('tests/emulator/', True), ('tests/unit/', True),
    ('tests/integration/', True), ('tests/playbook_runner.py', True),
    ('README.md', True), ('COPYING', True), ('requirements.txt', True), ('CHANGELOG.rst', True),
)
# Never in the tarball, whatever the rules or the working tree hold.
FORBIDDEN = ('.venv', 'tests/output/', 'docs/_build/', 'benchmarks/', 'scripts/', '__pycache__/', '.pyc',
             'integration_config.yml', '.emulator-endpoints', '.pytest_cache', '.hypothesis', 'Makefile')
REQUIRED = ('MANIFEST.json', 'FILES.json', 'README.md', 'COPYING', 'requirements.txt', 'meta/runtime.yml',
            'changelogs/changelog.yaml', 'CHANGELOG.rst', 'docs/emulator.md', 'docs/guides/getting_started.md',
            'tests/emulator/__main__.py', 'extensions/awx/credential_types/tencentcloud.yml',
            'playbooks/awx_credential_types.yml', 'roles/sg_bindings/README.md')


def shipped(path):
    """Whether a repository file belongs in the tarball, by RULES; None when no rule matches."""
    for rule, ship in RULES:
        if path == rule or (rule.endswith('/') and path.startswith(rule)):
            return ship
    return None


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """(the tarball's member files, the directory it is extracted to, its path)."""
    out = tmp_path_factory.mktemp('build')
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out), ROOT],
                   check=True, capture_output=True)
    tarballs = [name for name in os.listdir(str(out)) if name.endswith('.tar.gz')]
    assert len(tarballs) == 1, tarballs
    path = str(out / tarballs[0])
    extracted = out / 'extracted'
    with tarfile.open(path) as tar:
        members = sorted(m.name for m in tar.getmembers() if m.isfile())
        tar.extractall(str(extracted), filter='data')
    return members, str(extracted), path


def repository_files():
    """Tracked and untracked, non-ignored files: what ansible-galaxy sees, minus what .gitignore hides."""
    listing = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.splitlines()
    return sorted(path for path in listing if os.path.isfile(os.path.join(ROOT, path)))


def test_every_repository_file_is_classified():
    assert [path for path in repository_files() if shipped(path) is None] == []


def test_the_tarball_ships_exactly_the_files_users_need(built):
    members = set(built[0]) - {'MANIFEST.json', 'FILES.json'}
    wanted = {path for path in repository_files() if shipped(path)}
    assert sorted(wanted - members) == [], 'missing from the tarball'
    assert sorted(members - wanted) == [], 'in the tarball but not for users'


def test_the_tarball_has_the_required_files_and_nothing_forbidden(built):
    members = built[0]
    assert [path for path in REQUIRED if path not in members] == []
    assert [path for path in members if any(bad in path for bad in FORBIDDEN)] == []


def test_the_rules_agree_with_some_examples():
    assert shipped('tests/emulator/core.py') and shipped('docs/guides/at_scale.md') and shipped('COPYING')
    assert shipped('benchmarks/results/2026-12-01.json') is False and shipped('docs/site/build.sh') is False
    assert shipped('tests/emulator_tests/test_core.py') is False and shipped('scripts/demo.sh') is False
    assert shipped('a-new-top-level-file') is None


def test_markdown_reads_correctly_in_the_repository():
    assert mdlinks.problems(ROOT) == []


def test_markdown_reads_correctly_in_the_tarball(built):
    assert mdlinks.problems(built[1]) == []


def test_the_link_check_finds_what_it_must(tmp_path):
    """A raw MyST include, a link to a missing file, to a missing heading and out of the tree are reported; links in
    code, external links and good links are not."""
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'docs' / 'a.md').write_text('# A\n\n## Each cloud\'s options\n')
    (tmp_path / 'docs' / 'b.md').write_text(
        '# B\n\n```{include} a.md\n```\n\n[ok](a.md#each-clouds-options) [web](https://example.org/x.md)\n'
        '`[code](nowhere.md)`\n\n```\n[fenced](nowhere.md)\n```\n\n'
        '[gone](nowhere.md) [heading](a.md#nothing) [out](../../etc/passwd)\n\n[ref]: missing.md\n')
    found = mdlinks.problems(str(tmp_path))
    assert [line.split(': ', 1)[0] for line in found] == ['docs/b.md:3', 'docs/b.md:13', 'docs/b.md:13',
                                                          'docs/b.md:13', 'docs/b.md:15']
    assert 'nowhere.md: no such file' in found[1] and 'no heading #nothing' in found[2] and 'outside' in found[3]


def test_the_installed_playbooks_pass_a_syntax_check(built, tmp_path):
    """Every playbook, as a user runs it (by FQCN from the installed collection), with no other collection."""
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-p', str(tmp_path), built[2]],
                   check=True, capture_output=True)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path), ANSIBLE_LOCALHOST_WARNING='False',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='False')
    names = sorted(name[:-4] for name in os.listdir(os.path.join(ROOT, 'playbooks')) if name.endswith('.yml'))
    assert 'awx_credential_types' in names
    for name in names:
        result = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '--syntax-check', 'multicloud.secgroup.' + name],
                                env=env, capture_output=True, text=True, cwd=str(tmp_path), check=False)
        assert result.returncode == 0, (name, result.stdout, result.stderr)


def test_the_troubleshooting_error_code_tables_are_current(tmp_path):
    """docs/guides/troubleshooting.md holds the tables docs/site/error_codes.py makes from the modules' ERROR_CLASSES;
    a changed table is reported stale."""
    tree = tmp_path / 'tree' / 'ansible_collections' / 'multicloud'
    tree.mkdir(parents=True)
    os.symlink(ROOT, str(tree / 'secgroup'))
    script = os.path.join(ROOT, 'docs', 'site', 'error_codes.py')
    guide = os.path.join(ROOT, 'docs', 'guides', 'troubleshooting.md')
    check = [sys.executable, script, str(tmp_path / 'tree'), '--check']
    assert subprocess.run(check + [guide], capture_output=True, check=False).returncode == 0
    with open(guide, encoding='utf-8') as handle:
        text = handle.read()
    stale = tmp_path / 'stale.md'
    stale.write_text(text.replace('| `RequestLimitExceeded` | throttled |', '| `RequestLimitExceeded` | invalid |'))
    assert stale.read_text() != text
    result = subprocess.run(check + [str(stale)], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and 'stale' in result.stderr
