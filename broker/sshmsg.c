/*
 * sshmsg.c: libssh 0.10 marks some message getters deprecated (0.11 replaces
 * them with callbacks), yet the queued-message API a broker needs has no other
 * way to read them. Every such call lives here, so the rest of the broker
 * builds with deprecation warnings as errors.
 */
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"

const char *
sshmsg_auth_password(ssh_message m)
{
	return ssh_message_auth_password(m);
}

ssh_key
sshmsg_auth_pubkey(ssh_message m)
{
	return ssh_message_auth_pubkey(m);
}

enum ssh_publickey_state_e
sshmsg_auth_pubkey_state(ssh_message m)
{
	return ssh_message_auth_publickey_state(m);
}

void
sshmsg_pty(ssh_message m, const char **term, int *cols, int *rows)
{
	*term = ssh_message_channel_request_pty_term(m);
	*cols = ssh_message_channel_request_pty_width(m);
	*rows = ssh_message_channel_request_pty_height(m);
}
