"""ndx.stdlib.image — container images without a container engine.

* `archive`     reading and writing docker-archive and OCI image layouts;
* `layer`       writing one layer tar from store paths and a root tree, streaming;
* `build`       `build_image`: closure + copyToRoot + runAsRoot + config → docker-archive;
* `runasroot`   running a script as root in the image's filesystem without real root.
"""
