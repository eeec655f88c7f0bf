{ fromDirectory = "default.nix"; }
