/* style.c — the dashboard's one style sheet, served by us (no external
 * asset, no inline style: the Content-Security-Policy allows 'self'
 * only).  Must not hold anything but the sheet. */
#include <string.h>

#include "web/page.h"

static const char sheet[] =
	":root{--ink:#1f2533;--muted:#5c6478;--line:#d9dde7;--bg:#f6f7fa;--accent:#2f5fb3;--bad:#b3261e;--ok:#1e7a3c}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--ink);background:var(--bg)}\n"
	"header{background:#1f2533;color:#fff}\n"
	"nav{display:flex;flex-wrap:wrap;align-items:center;gap:4px 18px;padding:10px 24px}\n"
	"nav a{color:#cfd6e6;text-decoration:none;padding:4px 2px}\n"
	"nav a[aria-current=page]{color:#fff;border-bottom:2px solid #8fb1ff}\n"
	"nav .brand{font-weight:700;margin-right:12px}\n"
	"nav .user{margin-left:auto;color:#cfd6e6;font-size:13px}\n"
	"main{padding:18px 24px 40px;max-width:1280px}\n"
	"a{color:var(--accent)}\n"
	"h1{font-size:22px;margin:4px 0 16px}\n"
	"h2{font-size:17px;margin:24px 0 8px}\n"
	"table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);margin-bottom:16px}\n"
	"th,td{text-align:left;vertical-align:top;padding:6px 10px;border-bottom:1px solid var(--line);font-size:14px}\n"
	"th{background:#eef0f5;font-weight:600;white-space:nowrap}\n"
	"td.mono,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}\n"
	"td.reply{color:var(--muted);max-width:420px;overflow-wrap:anywhere}\n"
	".why{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;color:var(--muted);word-break:normal;margin-top:2px}\n"
	"td.actions{white-space:nowrap}\n"
	"form.inline{display:inline;margin:0}\n"
	"button{font:inherit;font-size:13px;padding:3px 10px;border:1px solid #aab3c5;border-radius:4px;background:#fff;color:var(--ink);cursor:pointer;margin:1px 2px}\n"
	"button:hover{background:#eef3ff}\n"
	"button.danger{border-color:#d9a6a3;color:var(--bad)}\n"
	"button.logout{background:transparent;color:#cfd6e6;border-color:#59627a}\n"
	"button.primary{background:var(--accent);border-color:var(--accent);color:#fff;padding:6px 16px}\n"
	"form.search{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:end;background:#fff;border:1px solid var(--line);padding:12px;margin-bottom:16px}\n"
	"form.search label,form.login label,form.account label{display:flex;flex-direction:column;font-size:13px;color:var(--muted);gap:3px}\n"
	"input,select{font:inherit;font-size:14px;padding:5px 8px;border:1px solid #aab3c5;border-radius:4px;background:#fff}\n"
	"form.login,form.account{display:flex;flex-direction:column;gap:12px;max-width:340px;background:#fff;border:1px solid var(--line);padding:20px;margin-bottom:16px}\n"
	".secret{font-size:20px;letter-spacing:1px;background:#fff;border:1px dashed var(--line);padding:6px 10px;display:inline-block;word-break:normal}\n"
	".state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e6e9f0}\n"
	".state.delivered,.state.matches,.state.received{background:#dcefe2;color:var(--ok)}\n"
	".state.bounced,.state.missing,.state.failed{background:#f6dcda;color:var(--bad)}\n"
	".state.deferred,.state.held,.state.differs{background:#fbefd0;color:#7a5a00}\n"
	".notice{background:#dcefe2;border:1px solid #b6dcc2;padding:8px 12px;margin-bottom:14px}\n"
	".error{background:#f6dcda;border:1px solid #e6b4b0;padding:8px 12px;margin-bottom:14px}\n"
	".muted{color:var(--muted)}\n"
	"form.account.wide{max-width:820px}\n"
	"form.account label.check{flex-direction:row;align-items:center;gap:8px;color:var(--ink);font-size:14px}\n"
	"textarea{font:13px/1.45 ui-monospace,Menlo,Consolas,monospace;color:var(--ink);padding:6px 8px;border:1px solid #aab3c5;border-radius:4px;width:100%;resize:vertical}\n"
	".state.active{background:#dcefe2;color:var(--ok)}\n"
	"pre.errline{background:#fff;border:1px solid #e6b4b0;padding:6px 10px;margin:0 0 12px;overflow-x:auto}\n"
	".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}\n"
	".charts img{width:100%;height:auto;background:#fff;border:1px solid var(--line)}\n"
	"dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;border:1px solid var(--line);padding:12px;margin:0 0 16px}\n"
	"dl.summary dt{color:var(--muted)}dl.summary dd{margin:0}\n"
	"pre.zone{background:#fff;border:1px solid var(--line);padding:10px;overflow-x:auto;font-size:12px}\n";

void web_get_style(http_req *r)
{
	http_add_header(r, "Cache-Control", "max-age=3600");
	http_reply(r, 200, "text/css; charset=utf-8", sheet, strlen(sheet));
}
