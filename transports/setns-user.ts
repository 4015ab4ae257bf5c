/**
 * The user switch of setns, done by node itself before the first stage, as
 * Mitogen's preexec does it after setns(2): the user's entry in the
 * container's /etc/passwd, its groups (initgroups), gid and uid, then HOME,
 * SHELL, LOGNAME, USER and the home directory as cwd. Inside, because only
 * there are the container's passwd and group files the ones that count.
 */
export function switchUserPrefix(username: string, container: string): string {
  const u = JSON.stringify(username);
  const fail = JSON.stringify(`setns: while transitioning to user ${username} in container ${container}: `);
  return [
    `{const F=require('fs'),u=${u},E=m=>{F.writeSync(2,${fail}+m+'\\n');process.exit(1)};let p;`,
    "try{p=F.readFileSync('/etc/passwd','utf8').split('\\n').map(l=>l.split(':')).find(f=>f[0]===u)}catch(e){E(e.message)}",
    "if(!p)E('no such user in /etc/passwd');",
    'try{process.initgroups(u,+p[3]);process.setgid(+p[3]);process.setuid(+p[2])}catch(e){E(e.message)}',
    "Object.assign(process.env,{HOME:p[5],SHELL:p[6]||'/bin/sh',LOGNAME:u,USER:u});try{process.chdir(p[5])}catch{}}",
  ].join('');
}
