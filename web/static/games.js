// SPDX-License-Identifier: GPL-3.0-or-later
// "Qu'est-ce qu'i dit ?": hear a Norman sentence, choose its French
// meaning among four; the answer plays it again with both texts and says
// where it comes from.  The score and the rounds already heard stay in
// this browser (localStorage), never on the server: no account needed.
'use strict';
(() => {
  const { t, el } = PRL;
  const $ = (id) => document.getElementById(id);
  const KEY = 'parlers-game-meaning';
  const SEEN_MAX = 200;

  // One round of game, not among those state.seen lists (the last
  // SEEN_MAX, kept with save()); null, with why in empty, when none comes:
  // every round heard (the list then starts again), too little material,
  // or no answer.  Both games of the page draw their rounds through it.
  PRL.gameRound = async (game, state, save, empty) => {
    empty.hidden = true;
    let r;
    try {
      r = await fetch('/api/games/round?game=' + game + '&seen=' + state.seen.join(','), { credentials: 'omit' });
    } catch (e) {
      r = null;
    }
    if (!r || !r.ok) {
      let msg = t('game_offline');
      if (r && r.status === 404) {
        msg = state.seen.length ? t('game_all_heard') : t('game_no_material');
        if (state.seen.length) { state.seen = []; save(); }
      }
      empty.textContent = msg;
      empty.hidden = false;
      return null;
    }
    const round = await r.json();
    state.seen.push(round.segment_id);
    if (state.seen.length > SEEN_MAX) state.seen.splice(0, state.seen.length - SEEN_MAX);
    save();
    return round;
  };
  const audio = $('audio');
  let round = null, answered = false;

  const load = () => {
    try { return JSON.parse(localStorage.getItem(KEY)) || { right: 0, played: 0, seen: [] }; } catch (e) { return { right: 0, played: 0, seen: [] }; }
  };
  const state = load();
  const save = () => { try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ } };
  const showScore = () => {
    $('score').textContent = state.played ? t('game_score', { right: state.right, played: state.played }) : '';
  };

  function playClip() {
    if (!round) return;
    const c = round.clip, m = c.media || {};
    const src = m.opus && audio.canPlayType('audio/ogg; codecs=opus') ? m.opus : m.mp3 || m.opus;
    const start = () => { audio.currentTime = c.start_ms / 1000; audio.play().catch(() => {}); };
    if (audio.dataset.src !== src) {
      audio.dataset.src = src;
      audio.src = src;
      audio.addEventListener('loadedmetadata', start, { once: true });
    } else {
      start();
    }
  }
  audio.addEventListener('timeupdate', () => {
    if (round && audio.currentTime * 1000 >= round.clip.end_ms) audio.pause();
  });

  function choose(i) {
    if (answered) return;
    answered = true;
    const right = i === round.answer;
    state.played++;
    if (right) state.right++;
    save();
    showScore();
    [...$('choice-list').children].forEach((b, k) => {
      b.disabled = true;
      b.classList.toggle('right', k === round.answer);
      b.classList.toggle('wrong', k === i && !right);
    });
    $('verdict').textContent = right ? t('game_right') : t('game_wrong');
    $('said').textContent = round.text;
    $('meant').textContent = round.translation;
    $('from').textContent = [round.title, round.place, round.date].filter(Boolean).join(' · ');
    $('result').hidden = false;
    playClip();
  }

  async function newRound() {
    const next = await PRL.gameRound('meaning', state, save, $('empty'));
    if (!next) return;
    round = next;
    answered = false;
    $('result').hidden = true;
    const list = $('choice-list');
    list.replaceChildren(...round.choices.map((c, i) => el('button', { type: 'button', class: 'choice', onclick: () => choose(i) }, c)));
    $('choices').hidden = false;
    $('replay').hidden = false;
    playClip();
    list.firstChild.focus();
  }

  $('new-round').addEventListener('click', newRound);
  $('replay').addEventListener('click', playClip);
  document.addEventListener('keydown', (ev) => {
    if (ev.target.tagName === 'INPUT' || !round || answered) return;
    const k = '1234'.indexOf(ev.key);
    if (k >= 0 && k < round.choices.length) { ev.preventDefault(); choose(k); }
  });
  showScore();
})();
