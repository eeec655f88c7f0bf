" Reads syntax groups at requested positions, for tests/editors/test_vim.py. Run as
"   vim -Nu NONE -i NONE -es --cmd 'set rtp^=<grammar/vim>' -S query.vim
" with $NDX_VIM_REQUEST naming a JSON file {"file.ndx": [[line, byte column], ...]}
" (1-based) and $NDX_VIM_RESULT the JSON file to write:
" {"file.ndx": {"filetype": "ndx", "commentstring": "# %s", "stacks": [[group, ...], ...]}}
" where each stack is synstack() outermost first, then the innermost item's own group
" (a region's matchgroup on its delimiters).
filetype plugin on
syntax on
let s:request = json_decode(join(readfile($NDX_VIM_REQUEST), "\n"))
let s:result = {}
for [s:file, s:positions] in items(s:request)
  execute 'edit ' . fnameescape(s:file)
  let s:stacks = []
  for [s:line, s:column] in s:positions
    let s:stack = map(synstack(s:line, s:column), 'synIDattr(v:val, "name")')
    call add(s:stack, synIDattr(synID(s:line, s:column, 0), "name"))
    call add(s:stacks, s:stack)
  endfor
  let s:result[s:file] = {'filetype': &filetype, 'commentstring': &commentstring,
        \ 'stacks': s:stacks}
  bwipeout!
endfor
call writefile([json_encode(s:result)], $NDX_VIM_RESULT)
qall!
