" Editing settings for ndx: `#` comments (and /* … */ blocks), two-space indentation.
if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1

setlocal comments=:#,s1:/*,mb:*,ex:*/
setlocal commentstring=#\ %s
setlocal expandtab shiftwidth=2 softtabstop=2
let b:undo_ftplugin = "setlocal comments< commentstring< expandtab< shiftwidth< softtabstop<"
