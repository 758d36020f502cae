# Stand-in for the get-pip.py bootstrap script that `ansible-test --requirements`
# downloads from ci-files.testing.ansible.com, which these machines cannot reach.
# lab/run-tests copies it into ansible-test's cache. Like get-pip.py, it takes
# pip-install arguments: it installs the interpreter's bundled pip (ensurepip),
# then lets that pip install what was asked (the pinned pip, from PyPI).
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
