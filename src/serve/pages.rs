//! The pages, rendered on the server: the desk (upload and queue), an
//! analysis, a patient, the patient list with search. Inline CSS and JS, plots
//! as inline SVG; the scripts only talk to this server's API (the page's
//! Content-Security-Policy forbids anything else). Every text from a user is
//! escaped; the scripts set text with `textContent`.

use std::fmt::Write;

use super::db::{AnalysisRow, AnalysisStatus, DbError, RepRecord, SessionRow};
use super::plots;
use super::store::ANALYSIS_FILES;
use super::AppState;
use crate::kinematics::metric::Metric;
use crate::report::html::esc;
use crate::report::style::ReportStyle;

/// Percent-encodes a path segment (a patient's name in a URL).
pub fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn patient_link(name: &str) -> String {
    format!("<a href=\"/patients/{}\">{}</a>", url_segment(name), esc(name))
}

const CSS: &str = r#"
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f3f4f6;color:#1f2937}
header{background:#1f2937;color:#fff;padding:10px 20px;display:flex;gap:22px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;font-weight:600}header .brand{font-size:1.2em}
header form{margin-left:auto}header input{padding:5px 8px;border-radius:4px;border:0;min-width:200px}
main{max-width:1080px;margin:0 auto;padding:18px 22px 48px;background:#fff;min-height:90vh}
h1{font-size:1.6em;margin:6px 0 12px}h2{font-size:1.2em;margin-top:28px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
a{color:#1d4ed8}
.muted{color:#6b7280}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:14px 16px;margin:12px 0;background:#fafafa}
label{display:inline-block;margin:4px 14px 8px 0;font-weight:600}
label input,label select{display:block;margin-top:3px;font-weight:400;padding:6px 8px;border:1px solid #cbd5e1;border-radius:4px;min-width:230px}
.drop{border:2px dashed #94a3b8;border-radius:8px;padding:26px;text-align:center;color:#475569;margin:8px 0;background:#fff}
.drop.over{background:#e0f2fe;border-color:#0284c7}
.drop label{display:inline;font-weight:600;color:#1d4ed8;cursor:pointer;margin:0}
.drop input{display:none}
button{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:9px 18px;font-size:1em;cursor:pointer}
button:hover{background:#1e40af}
ul.picked{margin:4px 0;padding-left:20px}
#messages li{margin:2px 0}
table{border-collapse:collapse;width:100%;font-size:.93em;margin:8px 0}
th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f1f5f9;font-weight:600}
td.num{text-align:right;white-space:nowrap}
.status{font-weight:600;border-radius:10px;padding:1px 9px;font-size:.88em;white-space:nowrap}
.status.queued{background:#e5e7eb}.status.running{background:#dbeafe;color:#1e40af}
.status.done{background:#dcfce7;color:#166534}.status.failed{background:#fee2e2;color:#991b1b}
.bar{background:#e5e7eb;border-radius:4px;height:10px;width:160px;display:inline-block;vertical-align:middle;margin-right:6px}
.bar i{display:block;height:100%;background:#2563eb;border-radius:4px}
.chip{display:inline-block;border-radius:12px;padding:1px 8px;margin:1px 3px 1px 0;font-size:.85em;color:#fff;white-space:nowrap}
td.date{white-space:nowrap}td.cue{min-width:170px}#reps th{font-size:.9em}
.good{background:#2e7d32}.fault{background:#c62828}
.reason{border-left:5px solid #c62828;background:#fef2f2;padding:8px 12px;margin:8px 0}
.warning{border-left:5px solid #ef6c00;background:#fff7ed;padding:8px 12px;margin:8px 0}
video{max-width:100%;max-height:70vh;background:#000;border-radius:6px}
iframe.report{width:100%;height:1400px;border:1px solid #e5e7eb;border-radius:6px}
.downloads a{margin-right:14px}
svg{max-width:100%;height:auto}figure.plot{margin:10px 0}
.legend{font-size:.9em;margin:2px 0 0 50px}.legend span{margin-right:16px;white-space:nowrap}
.legend i{display:inline-block;width:22px;height:8px;margin-right:6px;vertical-align:middle}
.scroll{overflow-x:auto}
"#;

/// A whole page around `body`.
fn layout(title: &str, body: &str, script: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — hinge</title><link rel=\"icon\" href=\"data:,\"><style>{CSS}</style></head><body>\
         <header><a class=\"brand\" href=\"/\">hinge</a><a href=\"/\">Upload &amp; queue</a>\
         <a href=\"/patients\">Patients</a>\
         <form action=\"/patients\" method=\"get\" role=\"search\">\
         <input type=\"search\" name=\"q\" placeholder=\"Find a patient\" aria-label=\"Find a patient\"></form>\
         </header><main>{body}</main>{}</body></html>\n",
        esc(title),
        if script.is_empty() { String::new() } else { format!("<script>{script}</script>") }
    )
}

/// A page with one message.
pub fn message_page(title: &str, text: &str) -> String {
    layout(title, &format!("<h1>{}</h1><p>{}</p><p><a href=\"/\">Back to the desk</a></p>", esc(title), esc(text)), "")
}

fn status_badge(s: AnalysisStatus) -> String {
    format!("<span class=\"status {0}\" data-status=\"{0}\">{0}</span>", s.name())
}

/// Shared by the scripts: a status badge and a progress bar built with DOM calls.
const SCRIPT_HELPERS: &str = r#"
function el(tag, cls, text){const e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined&&text!==null)e.textContent=text;return e;}
function badge(s){const b=el('span','status '+s,s);b.dataset.status=s;return b;}
function progressText(p){if(!p)return 'starting';const stage=p.stage==='drawing'?'drawing the annotated video':'analysing';return stage+' '+Math.round(p.percent)+'%';}
function bar(p){const w=el('span','bar');const i=el('i');i.style.width=(p?p.percent:0)+'%';w.appendChild(i);return w;}
"#;

/// The desk: upload form (drag and drop or picker, several files, patient
/// chosen or created, note, date) and the queue with live progress.
pub fn home(state: &AppState) -> Result<String, DbError> {
    let patients = state.db.search_patients("", 1000)?;
    let mut options = String::new();
    for p in &patients {
        let _ = write!(options, "<option value=\"{}\">", esc(&p.name));
    }
    let limit = super::size_text(state.options.max_upload_bytes);
    let body = format!(
        r#"<h1>Drop a lift, get the report</h1>
<form id="upload" class="card" autocomplete="off">
<label>Patient <input name="patient" id="patient" list="patient-list" required placeholder="name or number — new or existing"></label>
<datalist id="patient-list">{options}</datalist>
<label>Date filmed <input type="date" name="date" id="date"></label>
<label>Note <input name="note" id="note" placeholder="optional, e.g. 12 kg kettlebell"></label>
<div id="drop" class="drop">Drop videos here, or <label>choose files<input type="file" id="files" name="video" accept="video/*" multiple></label><br>
<span class="muted">Several at once; up to {limit} each. Film the whole body from the side.</span></div>
<ul id="picked" class="picked"></ul>
<button type="submit" id="send">Analyse</button>
<ul id="messages"></ul>
</form>
<h2>Queue</h2>
<p class="muted">Analyses run in the background ({workers} at a time) and carry on after a restart. This list updates by itself.</p>
<div class="scroll"><table id="queue"><thead><tr><th>#</th><th>Patient</th><th>File</th><th>Status</th><th>Progress / reason</th></tr></thead><tbody></tbody></table></div>
"#,
        workers = state.options.workers
    );
    let script = format!("{SCRIPT_HELPERS}{HOME_SCRIPT}");
    Ok(layout("Upload & queue", &body, &script))
}

const HOME_SCRIPT: &str = r#"
const form=document.getElementById('upload'),input=document.getElementById('files'),drop=document.getElementById('drop');
// the date filmed defaults to today on this computer's clock (the server's fallback is today in UTC)
{const d=new Date(),day=d.getFullYear()+'-'+String(d.getMonth()+1).padStart(2,'0')+'-'+String(d.getDate()).padStart(2,'0');
  form.date.value=day;form.date.max=day;}
const picked=document.getElementById('picked'),messages=document.getElementById('messages');
let files=[];
function showPicked(){picked.textContent='';for(const f of files){picked.appendChild(el('li','',f.name+' ('+(f.size/1e6).toFixed(1)+' MB)'));}}
function say(text,cls){const li=el('li',cls||'',text);messages.appendChild(li);return li;}
input.addEventListener('change',()=>{files=files.concat(Array.from(input.files));input.value='';showPicked();});
for(const t of ['dragenter','dragover']){drop.addEventListener(t,e=>{e.preventDefault();drop.classList.add('over');});}
for(const t of ['dragleave','drop']){drop.addEventListener(t,e=>{e.preventDefault();drop.classList.remove('over');});}
drop.addEventListener('drop',e=>{files=files.concat(Array.from(e.dataTransfer.files));showPicked();});
function send(file,fields){return new Promise(resolve=>{
  const fd=new FormData();for(const [k,v] of Object.entries(fields))fd.append(k,v);fd.append('video',file,file.name);
  const line=say(file.name+': uploading');const x=new XMLHttpRequest();x.open('POST','/api/analyses');
  x.upload.onprogress=e=>{if(e.lengthComputable)line.textContent=file.name+': uploading '+Math.round(100*e.loaded/e.total)+'%';};
  x.onload=()=>{let r={};try{r=JSON.parse(x.responseText);}catch(_){}
    if(x.status===202){line.textContent='';line.appendChild(document.createTextNode(file.name+': '));
      const a=el('a','',r.status==='failed'?'refused: '+(r.reason||''):(r.new_analysis?'queued':'already here, analysed once'));a.href='/analyses/'+r.id;line.appendChild(a);
      if(r.new_session===false)line.appendChild(document.createTextNode(' (this patient already has it, filmed '+r.recorded_on+'; that session is kept)'));}
    else{line.textContent=file.name+': '+(r.error||('refused ('+x.status+')'));line.className='reason';}
    refresh();resolve();};
  x.onerror=()=>{line.textContent=file.name+': the upload broke off';line.className='reason';resolve();};
  x.send(fd);});}
form.addEventListener('submit',async e=>{e.preventDefault();
  const patient=form.patient.value.trim();
  if(!patient){say('Name the patient first.','reason');return;}
  if(!files.length){say('Choose or drop at least one video.','reason');return;}
  const todo=files;files=[];showPicked();
  for(const f of todo){await send(f,{patient:patient,note:form.note.value,date:form.date.value});}});
async function refresh(){let j;try{const r=await fetch('/api/queue');if(!r.ok)return;j=await r.json();}catch(_){return;}
  const tb=document.querySelector('#queue tbody');tb.textContent='';
  for(const a of j.analyses){const tr=el('tr');tr.dataset.id=a.id;tr.dataset.status=a.status;
    const id=el('td');const link=el('a','','#'+a.id);link.href='/analyses/'+a.id;id.appendChild(link);tr.appendChild(id);
    const p=el('td');if(a.patient){const pl=el('a','',a.patient);pl.href='/patients/'+encodeURIComponent(a.patient);p.appendChild(pl);}tr.appendChild(p);
    tr.appendChild(el('td','',a.original_name||''));const st=el('td');st.appendChild(badge(a.status));tr.appendChild(st);
    const last=el('td');
    if(a.status==='running'){last.appendChild(bar(a.progress));last.appendChild(document.createTextNode(progressText(a.progress)));}
    else if(a.status==='failed'){last.textContent=a.reason||'';last.className='reason';}
    else if(a.status==='done'){const v=el('a','',a.warning?'report (see the warning)':'report');v.href='/analyses/'+a.id;last.appendChild(v);}
    else{last.textContent='waiting';}
    tr.appendChild(last);tb.appendChild(tr);}}
refresh();setInterval(refresh,1000);
"#;

fn number(v: Option<f64>, decimals: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.decimals$}"))
}

/// A rep's verdict as a coloured chip: the fault labels, or the good-rep words;
/// `numbered` puts "Rep N:" before them.
fn verdict_chip(style: &ReportStyle, r: &RepRecord, numbered: bool) -> String {
    let class = if r.verdict == "good" { "good" } else { "fault" };
    let title = if r.faults.is_empty() {
        style.good_rep.clone()
    } else {
        r.faults.iter().map(|f| style.fault_label(f)).collect::<Vec<_>>().join(", ")
    };
    let number = if numbered { format!("{} {}: ", esc(&style.rep_label), r.rep) } else { String::new() };
    format!(
        "<span class=\"chip {class}\" data-rep=\"{}\" data-verdict=\"{}\" title=\"{}\">{number}{}</span>",
        r.rep,
        esc(&r.verdict),
        esc(&title),
        esc(&title)
    )
}

/// The per-rep table: verdict, faults, cue and every metric at depth.
fn reps_table(style: &ReportStyle, reps: &[RepRecord]) -> String {
    if reps.is_empty() {
        return "<p class=\"muted\">No repetition was found in this video.</p>".into();
    }
    let mut html = String::from(
        "<div class=\"scroll\"><table id=\"reps\"><thead><tr><th>Rep</th><th>Time</th><th>Verdict</th><th>Cue</th>",
    );
    for m in Metric::ALL {
        let _ = write!(html, "<th title=\"{}\">{}</th>", m.name(), esc(m.label()));
    }
    html.push_str("</tr></thead><tbody>");
    for r in reps {
        let cues: Vec<&str> = r.faults.iter().map(|f| style.cue(f)).filter(|c| !c.is_empty()).collect();
        let _ = write!(
            html,
            "<tr data-rep=\"{}\" data-verdict=\"{}\"><td class=\"num\">{}</td><td class=\"num\">{:.1}–{:.1} s</td><td>{}</td><td class=\"cue\">{}</td>",
            r.rep,
            esc(&r.verdict),
            r.rep,
            r.start_s,
            r.end_s,
            verdict_chip(style, r, false),
            esc(&cues.join("; "))
        );
        for m in Metric::ALL {
            let _ = write!(
                html,
                "<td class=\"num\">{}{}</td>",
                number(r.at_depth.get(m.name()).copied(), m.decimals().min(1)),
                esc(m.unit())
            );
        }
        html.push_str("</tr>");
    }
    html.push_str(
        "</tbody></table></div><p class=\"muted\">The angles are the medians over each rep's deep part: \
         the evidence its verdict was taken on.</p>",
    );
    html
}

const ANALYSIS_SCRIPT: &str = r#"
const box=document.getElementById('live');const id=box.dataset.id;
async function poll(){let a;try{const r=await fetch('/api/analyses/'+id);if(!r.ok)return;a=await r.json();}catch(_){return;}
  if(a.status==='done'||a.status==='failed'){location.reload();return;}
  box.textContent='';box.appendChild(badge(a.status));box.appendChild(document.createTextNode(' '));
  if(a.status==='running'){box.appendChild(bar(a.progress));box.appendChild(document.createTextNode(progressText(a.progress)));}
  else box.appendChild(document.createTextNode('waiting for a free worker'));}
poll();setInterval(poll,1000);
"#;

/// An analysis: progress while it runs, the reason when it failed; when done
/// the verdict per rep, the annotated video, the downloads and the report.
pub fn analysis(state: &AppState, id: i64) -> Result<Option<String>, DbError> {
    let Some(row) = state.db.analysis(id)? else { return Ok(None) };
    let sessions = state.db.sessions_of_analysis(id)?;
    let mut body = String::new();
    let title = sessions.first().map_or(format!("Analysis {id}"), |s| format!("{} — {}", s.patient, s.recorded_on));
    let _ = write!(body, "<h1>{}</h1>", esc(&title));
    for s in &sessions {
        let _ = write!(
            body,
            "<p>Patient {} · filmed {} · file “{}”{}</p>",
            patient_link(&s.patient),
            esc(&s.recorded_on),
            esc(&s.original_name),
            if s.note.is_empty() { String::new() } else { format!(" · {}", esc(&s.note)) }
        );
    }
    let mut script = String::new();
    match row.status {
        AnalysisStatus::Queued | AnalysisStatus::Running => {
            let _ = write!(
                body,
                "<p id=\"live\" data-id=\"{id}\">{} {}</p>",
                status_badge(row.status),
                if row.status == AnalysisStatus::Queued { "waiting for a free worker" } else { "" }
            );
            script = format!("{SCRIPT_HELPERS}{ANALYSIS_SCRIPT}");
        }
        AnalysisStatus::Failed => {
            let _ = write!(
                body,
                "<p>{}</p><div class=\"reason\" id=\"reason\"><strong>This video could not be analysed:</strong> {}</div>",
                status_badge(row.status),
                esc(row.reason.as_deref().unwrap_or("no reason recorded"))
            );
        }
        AnalysisStatus::Done => body.push_str(&done_analysis(state, &row)?),
    }
    Ok(Some(layout(&title, &body, &script)))
}

fn done_analysis(state: &AppState, row: &AnalysisRow) -> Result<String, DbError> {
    let style = &state.options.config.report;
    let reps = state.db.reps(row.id)?;
    let id = row.id;
    let mut body = String::new();
    let faulty = reps.iter().filter(|r| r.verdict != "good").count();
    let _ = write!(
        body,
        "<p>{} {} rep(s), {} with a fault{}</p>",
        status_badge(row.status),
        reps.len(),
        faulty,
        row.duration_s.map_or(String::new(), |d| format!(" · {d:.1} s of video"))
    );
    if let Some(w) = &row.warning {
        let _ =
            write!(body, "<div class=\"warning\" id=\"warning\"><strong>Check the video:</strong> {}</div>", esc(w));
    }
    body.push_str("<h2>Verdict per rep</h2>");
    body.push_str(&reps_table(style, &reps));
    let dir = state.store.output_dir(&row.video_sha256, &row.settings_sha256);
    let has = |f: &str| dir.join(f).is_file();
    if has("annotated.mp4") {
        let _ = write!(
            body,
            "<h2>Annotated video</h2><video id=\"annotated\" controls preload=\"metadata\" \
             src=\"/analyses/{id}/files/annotated.mp4\"></video>"
        );
    }
    body.push_str("<h2>Downloads</h2><p class=\"downloads\">");
    for f in ANALYSIS_FILES.iter().filter(|f| has(f)) {
        let _ = write!(body, "<a href=\"/analyses/{id}/files/{f}\" download>{f}</a>");
    }
    body.push_str("</p>");
    if has("report.html") {
        let _ = write!(
            body,
            "<h2>Report</h2><p><a href=\"/analyses/{id}/files/report.html\">Open the report on its own page</a> \
             (to print or hand over)</p><iframe class=\"report\" title=\"report\" src=\"/analyses/{id}/files/report.html\"></iframe>"
        );
    }
    Ok(body)
}

const PATIENT_SCRIPT: &str = r#"
const main=document.querySelector('main');const name=main.dataset.patient;
async function poll(){try{const r=await fetch('/api/patients/'+encodeURIComponent(name));if(!r.ok)return;const j=await r.json();
  const now=j.sessions.map(s=>s.analysis.status).join(',');if(now!==main.dataset.statuses)location.reload();}catch(_){}}
setInterval(poll,2000);
"#;

/// A patient: key figures across sessions (plots), then every session in time
/// order with its per-rep verdicts.
pub fn patient(state: &AppState, name: &str) -> Result<Option<String>, DbError> {
    let Some(sessions) = state.db.patient_sessions(name)? else { return Ok(None) };
    let style = &state.options.config.report;
    let faults = &state.options.config.faults;
    let points = plots::session_points(&sessions);
    let mut body = format!("<h1>{}</h1>", esc(name));
    let _ = write!(
        body,
        "<p>{} session(s), {} analysed · <a href=\"/\">add a video</a> · <a href=\"/api/patients/{}\">JSON</a></p>",
        sessions.len(),
        points.len(),
        url_segment(name)
    );
    body.push_str("<h2>Progress across sessions</h2>");
    if points.is_empty() {
        body.push_str("<p class=\"muted\">The plots appear when a first session is analysed.</p>");
    } else {
        body.push_str(&plots::faulty_reps_plot(&points, style));
        body.push_str(&plots::at_depth_plot(
            "plot-back",
            "Lumbar flexion and trunk at depth (median over the reps)",
            &points,
            &[Metric::LumbarFlexion, Metric::Trunk],
            &[(faults.rounded_lumbar_deg, format!("lumbar rounded from {:.0}°", faults.rounded_lumbar_deg))],
            style,
        ));
        body.push_str(&plots::at_depth_plot(
            "plot-ssi",
            "Stoop–squat index at depth (median over the reps; low = squatting)",
            &points,
            &[Metric::Ssi],
            &[(faults.squat_ssi, format!("squat below {:.0}", faults.squat_ssi))],
            style,
        ));
    }
    body.push_str("<h2>Sessions</h2>");
    body.push_str(&sessions_table(style, &sessions));
    let statuses: Vec<&str> = sessions.iter().map(|s| s.analysis.status.name()).collect();
    let unfinished =
        sessions.iter().any(|s| matches!(s.analysis.status, AnalysisStatus::Queued | AnalysisStatus::Running));
    let page = layout(name, &body, if unfinished { PATIENT_SCRIPT } else { "" });
    // the poller compares the statuses it fetches with these
    let page = page.replacen(
        "<main>",
        &format!("<main data-patient=\"{}\" data-statuses=\"{}\">", esc(name), statuses.join(",")),
        1,
    );
    Ok(Some(page))
}

fn sessions_table(style: &ReportStyle, sessions: &[SessionRow]) -> String {
    let mut html = String::from(
        "<div class=\"scroll\"><table id=\"sessions\"><thead><tr><th>Filmed</th><th>File</th><th>Note</th>\
         <th>Status</th><th>Reps: verdicts</th><th></th></tr></thead><tbody>",
    );
    for s in sessions {
        let a = &s.analysis;
        let verdicts = match a.status {
            AnalysisStatus::Done if s.reps.is_empty() => "<span class=\"muted\">no rep found</span>".to_string(),
            AnalysisStatus::Done => s.reps.iter().map(|r| verdict_chip(style, r, true)).collect::<Vec<_>>().join(" "),
            AnalysisStatus::Failed => {
                format!("<span class=\"reason\">{}</span>", esc(a.reason.as_deref().unwrap_or("")))
            }
            _ => String::new(),
        };
        let warning =
            a.warning.as_deref().map_or(String::new(), |w| format!("<div class=\"warning\">{}</div>", esc(w)));
        let _ = write!(
            html,
            "<tr data-analysis=\"{}\"><td class=\"date\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{verdicts}{warning}</td>\
             <td><a href=\"/analyses/{}\">open</a></td></tr>",
            a.id,
            esc(&s.recorded_on),
            esc(&s.original_name),
            esc(&s.note),
            status_badge(a.status),
            a.id
        );
    }
    html.push_str("</tbody></table></div>");
    html
}

/// The patient list, filtered by a search.
pub fn patients(state: &AppState, query: &str) -> Result<String, DbError> {
    let query = query.trim();
    let list = state.db.search_patients(query, 500)?;
    let mut body = String::from("<h1>Patients</h1>");
    let _ = write!(
        body,
        "<form action=\"/patients\" method=\"get\" class=\"card\"><label>Find a patient \
         <input type=\"search\" name=\"q\" value=\"{}\" autofocus></label><button type=\"submit\">Search</button></form>",
        esc(query)
    );
    if list.is_empty() {
        body.push_str(if query.is_empty() {
            "<p class=\"muted\">No patient yet: upload a first video on the desk.</p>"
        } else {
            "<p class=\"muted\">No patient matches.</p>"
        });
    } else {
        body.push_str(
            "<table id=\"patients\"><thead><tr><th>Patient</th><th>Sessions</th><th>Last filmed</th></tr></thead><tbody>",
        );
        for p in &list {
            let _ = write!(
                body,
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                patient_link(&p.name),
                p.sessions,
                esc(p.last_recorded_on.as_deref().unwrap_or("–"))
            );
        }
        body.push_str("</tbody></table>");
    }
    Ok(layout("Patients", &body, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_urls_are_encoded_and_in_pages_escaped() {
        assert_eq!(url_segment("P-017"), "P-017");
        assert_eq!(url_segment("Jo Ann/2"), "Jo%20Ann%2F2");
        assert_eq!(url_segment("Zoë"), "Zo%C3%AB");
        let link = patient_link("<script>x</script>");
        assert!(!link.contains("<script>"), "{link}");
    }

    #[test]
    fn the_rep_table_names_every_metric_of_the_registry() {
        let rep = RepRecord {
            rep: 1,
            start_s: 0.5,
            end_s: 2.0,
            verdict: "fault".into(),
            faults: vec!["rounded_lumbar".into()],
            at_depth: [("lumbar_flexion_deg".to_string(), 35.0)].into_iter().collect(),
        };
        let style = ReportStyle::default();
        let html = reps_table(&style, &[rep]);
        for m in Metric::ALL {
            assert!(html.contains(m.name()), "{} missing", m.name());
        }
        assert!(html.contains("data-verdict=\"fault\"") && html.contains("35.0°"));
        assert!(html.contains(style.cue("rounded_lumbar")));
    }
}
