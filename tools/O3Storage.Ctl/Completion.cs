// Owns: the shell completion scripts `o3ctl completion bash|zsh` prints. They ask o3ctl itself through
// System.CommandLine's [suggest] directive, so completions always match the binary's commands and options.
namespace O3Storage.Ctl;

public static class Completion
{
    public static string Script(string shell) => shell switch
    {
        "bash" => """
            # o3ctl completion for bash: source <(o3ctl completion bash), or save it in /etc/bash_completion.d/o3ctl
            _o3ctl_complete() {
                local IFS=$'\n'
                COMPREPLY=( $(compgen -W "$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}") )
            }
            complete -o default -F _o3ctl_complete o3ctl

            """,
        "zsh" => """
            # o3ctl completion for zsh: source <(o3ctl completion zsh)
            _o3ctl_complete() {
                local -a completions
                completions=("${(@f)$(o3ctl "[suggest:${#BUFFER}]" "$BUFFER" 2>/dev/null)}")
                compadd -- $completions
            }
            compdef _o3ctl_complete o3ctl

            """,
        _ => throw new CtlException(ExitCode.Usage, $"no completion for {shell}", "give bash or zsh"),
    };
}
