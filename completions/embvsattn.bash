# bash completion for embvsattn: commands, each command's options, the values some options take (head names, vector
# and output formats) and file names. `make install` puts it in PREFIX/share/bash-completion/completions/embvsattn,
# where bash-completion finds it; without bash-completion, source it from ~/.bashrc. Self-contained: it needs none of
# bash-completion's helpers.
#
# tests/completion.sh checks these lists against the binary's --help (every command, and each command's options
# exactly), so they cannot drift from the option table in src/cli.c.

_embvsattn_commands='vector info neighbors analogy similarity doesnt-match eval compare serve train index convert'

# options every command takes
_embvsattn_global='--vectors --vector-format --limit --threads --format --no-index -h --help'

# options that take a value (the next argument, or attached: --top=3)
_embvsattn_valued='--vectors --vector-format --limit --threads --format --to -k --words --restrict --method --head
    --dk --positions --position-scale --top --word -o --output --epochs --lr --seed --log --max-tokens --mask --heads
    --objective --rows --beta --pronoun --term --positive --negative --vector-in --line-offset --port --host
    --timeout --cache'

# The options COMMAND takes besides the global ones ("show": the main view, a sentence without a command word).
_embvsattn_options()
{
    local lists='--words --stdin -i --interactive' # the word commands' lists and line modes
    local view='--head --heads --dk --positions --position-scale --causal --residual -q --quiet --top -k --restrict -o
        --output --map'
    case $1 in
        show) echo "$view --batch --line-offset --predict --mask --context-vectors --why --steps --term" ;;
        compare) echo "$view --word --why --steps" ;;
        neighbors | neighbours) echo "-k --restrict --method --positive --negative --mean --vector-in $lists" ;;
        analogy) echo "-k --restrict --method $lists" ;;
        vector | similarity | doesnt-match) echo "$lists" ;;
        eval) echo '--restrict --method --max-tokens --head --details' ;;
        train) echo '--objective --rows --beta --pronoun --dk --positions --position-scale -o --output --epochs --lr --seed --log
            --max-tokens' ;;
        serve) echo '--head --port --host --timeout --cache' ;;
        index) echo '-k --words -o --output' ;;
        convert) echo '--to' ;;
    esac
}

# COMPREPLY += the words of $1 that start with $cur
_embvsattn_words()
{
    local IFS=$'\n'
    COMPREPLY+=($(IFS=$' \t\n' compgen -W "$1" -- "$cur"))
}

# COMPREPLY += directories, and files (ending in .$1 when given)
_embvsattn_files()
{
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    if [[ -n ${1:-} ]]; then
        COMPREPLY+=($(compgen -d -- "$cur") $(compgen -f -X "!*.$1" -- "$cur"))
    else
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}

_embvsattn()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' i w
    local -a pos=()
    COMPREPLY=()
    # bash splits --top=3 into --top, =, 3: the option before an "=" is the one being given a value
    if ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[COMP_CWORD - 1]} == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif ((COMP_CWORD >= 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        [[ $cur == = ]] && cur='' # --format=<TAB>
    fi

    local cmd_guess=''
    for w in "${COMP_WORDS[@]:1:COMP_CWORD}"; do
        [[ " $_embvsattn_commands " == *" $w "* ]] && { cmd_guess=$w; break; }
    done
    # an option's value
    case $prev in
        --head) _embvsattn_words 'context mlm identity random random:'; _embvsattn_files safetensors; return ;;
        --objective) _embvsattn_words 'context masked-word'; return ;;
        --vectors | -o | --output | --log | --vector-in) _embvsattn_files; return ;;
        --words) [[ $cmd_guess == index ]] || _embvsattn_files; return ;; # index --words N: a count
        --vector-format) _embvsattn_words 'glove word2vec word2vec-binary cache fasttext-bin'; return ;;
        --to) _embvsattn_words 'glove word2vec word2vec-binary cache'; return ;;
        --format) _embvsattn_words 'text json html svg tsv'; return ;;
        --positions) _embvsattn_words 'none sinusoidal'; return ;;
        --term) _embvsattn_words 'meaning position ee ep pe pp'; return ;;
        --method) _embvsattn_words 'add mul'; return ;;
    esac
    [[ " ${_embvsattn_valued//$'\n'/ } " == *" $prev "* ]] && return # a number or a word: nothing to offer

    # the command (the first word that is neither an option nor an option's value) and its arguments so far
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ " ${_embvsattn_valued//$'\n'/ } " == *" $w "* ]]; then
            [[ ${COMP_WORDS[i + 1]:-} == = ]] && ((i++))
            ((i++))
            continue
        fi
        [[ $w == -* || $w == = ]] && continue
        if [[ -z $cmd ]]; then
            if [[ " $_embvsattn_commands neighbours " == *" $w "* ]]; then
                cmd=$w
                continue
            fi
            cmd=show
        fi
        pos+=("$w")
    done

    if [[ $cur == -* ]]; then
        if [[ -z $cmd ]]; then # options may come before the command: any of them
            for w in show $_embvsattn_commands; do
                _embvsattn_words "$(_embvsattn_options "$w")"
            done
            _embvsattn_words "$_embvsattn_global --version"
            local IFS=$'\n'
            COMPREPLY=($(printf '%s\n' "${COMPREPLY[@]}" | sort -u))
        else
            _embvsattn_words "$_embvsattn_global $(_embvsattn_options "$cmd")"
        fi
        return
    fi
    case $cmd in
        '') _embvsattn_words "$_embvsattn_commands" ;; # or a sentence: nothing to offer for it
        eval)
            if ((${#pos[@]} == 0)); then
                _embvsattn_words 'analogies pairs head senses'
            elif [[ ${pos[0]} == head && ${#pos[@]} == 1 ]]; then
                _embvsattn_words 'context mlm'
                _embvsattn_files safetensors
            else
                _embvsattn_files
            fi
            ;;
        info | convert | train) _embvsattn_files ;;
    esac
}

complete -F _embvsattn embvsattn
