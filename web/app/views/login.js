// The login page: user name and password to POST /api/login.

import * as api from '../api.js';
import { t, getLang, setLang } from '../i18n.js';
import { h } from '../ui.js';

export function renderLogin(onSuccess) {
  const msg = h('div', { class: 'msg', role: 'alert', id: 'login-msg' });
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit', id: 'login-submit' }, t('sign_in'));
  const form = h('form', {
    class: 'login', id: 'login-form', onsubmit: async e => {
      e.preventDefault();
      msg.textContent = '';
      btn.disabled = true;
      btn.textContent = t('signing_in');
      try {
        await api.login(user.value.trim(), pass.value);
        pass.value = '';
        await onSuccess();
      } catch (err) {
        msg.textContent = err.code === 'bad_credentials' ? t('bad_credentials')
          : err.code === 'rate_limited' ? t('rate_limited') : `${t('server_error')}: ${err.message}`;
        btn.disabled = false;
        btn.textContent = t('sign_in');
      }
    },
  },
  h('h1', {}, 'Carebase ', h('span', { class: 'note' }, t('login_title'))),
  h('p', { class: 'sub' }, t('login_sub')),
  h('label', { for: 'login-user' }, t('user')), user,
  h('label', { for: 'login-password' }, t('password')), pass,
  btn, msg,
  h('div', { class: 'foot' },
    h('span', {}, 'carebase serve'),
    h('button', {
      type: 'button', id: 'lang', onclick: () => {
        setLang(getLang() === 'zh' ? 'en' : 'zh');
        form.replaceWith(renderLogin(onSuccess).firstChild);
      },
    }, t('lang_switch'))));
  return h('div', { class: 'login-wrap', id: 'login' }, form);
}
