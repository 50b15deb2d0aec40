"""check-layer.py passes the layer as committed and catches each kind of breakage it claims to.

Run: python3 -m unittest discover -s tests/image   (needs the tarball: make-tarball.sh)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAYER = os.path.join(REPO, "image", "meta-o3storage")
CHECKER = os.path.join(LAYER, "scripts", "check-layer.py")


def check(layer):
    result = subprocess.run([sys.executable, CHECKER, layer], capture_output=True, text=True)
    return result.returncode, result.stderr


class CheckLayerTests(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="o3-layer-")
        self.layer = os.path.join(self.directory, "meta-o3storage")
        shutil.copytree(LAYER, self.layer)

    def tearDown(self):
        shutil.rmtree(self.directory)

    def edit(self, relative, pattern, replacement):
        path = os.path.join(self.layer, relative)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        changed = re.sub(pattern, replacement, text, count=1, flags=re.M)
        self.assertNotEqual(text, changed, f"{pattern!r} not found in {relative}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(changed)

    def assert_refused(self, needle):
        code, errors = check(self.layer)
        self.assertEqual(1, code, errors)
        self.assertIn(needle, errors)

    def test_layer_as_committed_is_clean(self):
        code, errors = check(LAYER)
        self.assertEqual(0, code, errors)

    def test_old_override_syntax_is_refused(self):
        self.edit("recipes-o3storage/o3storage/o3storage.bb", r"^RDEPENDS:\$\{PN\} \+=", "RDEPENDS_${PN} +=")
        self.assert_refused("old override syntax")

    def test_unparsable_line_is_refused(self):
        self.edit("recipes-core/images/o3storage-image.bb", r"^LICENSE = \"MIT\"", 'LICENSE = "MIT')
        self.assert_refused("BitBake cannot parse this line")

    def test_unclosed_function_is_refused(self):
        self.edit("recipes-o3storage/o3storage/o3storage.bb", r"^}\n", "")
        self.assert_refused("has no closing '}'")

    def test_missing_layerseries_compat_is_refused(self):
        self.edit("conf/layer.conf", r"^LAYERSERIES_COMPAT_o3storage = .*\n", "")
        self.assert_refused("LAYERSERIES_COMPAT_o3storage is not set")

    def test_recipe_outside_bbfiles_is_refused(self):
        os.makedirs(os.path.join(self.layer, "extra"))
        shutil.move(os.path.join(self.layer, "recipes-core", "images", "o3storage-image.bb"), os.path.join(self.layer, "extra", "o3storage-image.bb"))
        self.assert_refused("not matched by BBFILES")

    def test_unit_missing_from_tarball_is_refused(self):
        self.edit("recipes-o3storage/o3storage/o3storage.bb", r"o3storage-firewall\.service\"", 'o3storage-firewall.service o3storage-typo.service"')
        self.assert_refused("o3storage-typo.service, which the tarball does not contain")

    def test_unknown_class_is_refused(self):
        self.edit("recipes-o3storage/o3storage/o3storage.bb", r"^inherit bin_package", "inherit bin_packages")
        self.assert_refused("inherits 'bin_packages'")

    def test_missing_wks_file_is_refused(self):
        self.edit("recipes-core/images/o3storage-image.bb", r"o3storage-sdimage\.wks", "o3storage-sd.wks")
        self.assert_refused("WKS_FILE o3storage-sd.wks is not in")

    def test_wks_size_and_fixed_size_together_are_refused(self):
        self.edit("wic/o3storage-sdimage.wks", r"--fixed-size 256M", "--size 256M --fixed-size 256M")
        self.assert_refused("wic cannot parse this line")

    def test_wks_unknown_option_is_refused(self):
        self.edit("wic/o3storage-sdimage.wks", r"--align 4096 --fixed", "--alignment 4096 --fixed")
        self.assert_refused("wic cannot parse this line")

    def test_missing_tarball_is_refused(self):
        files = os.path.join(self.layer, "recipes-o3storage", "o3storage", "files")
        for name in os.listdir(files):
            os.remove(os.path.join(files, name))
        self.assert_refused("is not in")


if __name__ == "__main__":
    unittest.main()
