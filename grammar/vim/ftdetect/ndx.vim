" ndx files are the Nix expression language with the .ndx extension.
autocmd BufRead,BufNewFile *.ndx setfiletype ndx
