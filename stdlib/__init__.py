"""ndx.stdlib — what programs call beyond the core: the store, builds, fetchers, the image
writer, the registry client, and the library written in ndx itself."""
