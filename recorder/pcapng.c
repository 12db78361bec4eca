/*
 * pcapng.c: a forward's recorded stream as a pcap-ng capture that Wireshark
 * and tshark open, so an auditor sees the Modbus (or S7, EtherNet/IP, OPC UA)
 * requests the vendor sent. The recording holds only the TCP payload, so the
 * framing is synthesised: raw IPv4 (LINKTYPE_RAW), the vendor as 192.0.2.1
 * (TEST-NET-1, it was never on the plant network) and the device at its own
 * address and port, a three-way handshake, then each recorded chunk as one or
 * more PSH/ACK segments with consistent sequence numbers and checksums.
 * Pure: bytes into a buffer. All blocks are big-endian (the byte-order magic
 * says so).
 */
#include <string.h>

#include "recorder/recorder.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 1u
#define PCAPNG_EPB 6u
#define PCAPNG_LINKTYPE_RAW 101u
#define PCAPNG_SEGMENT_MAX 65000u	/* payload per synthetic segment */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

void
pcapng_flow_init(struct pcapng_flow *fl, const uint8_t device_ip[4], uint16_t device_port)
{
	memset(fl, 0, sizeof(*fl));
	fl->client_ip[0] = 192;
	fl->client_ip[1] = 0;
	fl->client_ip[2] = 2;
	fl->client_ip[3] = 1;
	memcpy(fl->server_ip, device_ip, 4);
	fl->client_port = 50200;
	fl->server_port = device_port;
	fl->client_seq = 0x1000;
	fl->server_seq = 0x8000;
}

int
pcapng_header(struct buf *out)
{
	int r;

	/* section header: type, length, magic, version 1.0, length unknown */
	if ((r = buf_put_u32(out, PCAPNG_SHB)) != 0 || (r = buf_put_u32(out, 28)) != 0 ||
	    (r = buf_put_u32(out, 0x1A2B3C4Du)) != 0 ||
	    (r = buf_put_u32(out, 0x00010000u)) != 0 ||
	    (r = buf_put_u64(out, UINT64_MAX)) != 0 || (r = buf_put_u32(out, 28)) != 0)
		return r;
	/* one interface: raw IP, no snap length limit, microsecond stamps */
	if ((r = buf_put_u32(out, PCAPNG_IDB)) != 0 || (r = buf_put_u32(out, 20)) != 0 ||
	    (r = buf_put_u32(out, PCAPNG_LINKTYPE_RAW << 16)) != 0 ||
	    (r = buf_put_u32(out, 0)) != 0 || (r = buf_put_u32(out, 20)) != 0)
		return r;
	return 0;
}

static uint32_t
pcapng_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
pcapng_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One IPv4+TCP packet in an enhanced packet block. */
static int
pcapng_segment(struct buf *out, struct pcapng_flow *fl, uint64_t ts_us, int to_server,
    uint8_t flags, const uint8_t *data, size_t len)
{
	uint8_t h[40];
	size_t plen = 40 + len, pad = (4 - plen % 4) % 4;
	uint32_t *seq = to_server ? &fl->client_seq : &fl->server_seq;
	uint32_t ack = to_server ? fl->server_seq : fl->client_seq, sum;
	const uint8_t *src = to_server ? fl->client_ip : fl->server_ip;
	const uint8_t *dst = to_server ? fl->server_ip : fl->client_ip;
	uint16_t sport = to_server ? fl->client_port : fl->server_port;
	uint16_t dport = to_server ? fl->server_port : fl->client_port, c;
	static const uint8_t zero[4];
	int r;

	memset(h, 0, sizeof(h));
	h[0] = 0x45;
	h[2] = (uint8_t)(plen >> 8);
	h[3] = (uint8_t)plen;
	h[4] = (uint8_t)(fl->ip_id >> 8);
	h[5] = (uint8_t)fl->ip_id;
	fl->ip_id++;
	h[6] = 0x40;		/* don't fragment */
	h[8] = 64;
	h[9] = 6;		/* TCP */
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	c = pcapng_fold(pcapng_sum(0, h, 20));
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
	h[20] = (uint8_t)(sport >> 8);
	h[21] = (uint8_t)sport;
	h[22] = (uint8_t)(dport >> 8);
	h[23] = (uint8_t)dport;
	h[24] = (uint8_t)(*seq >> 24);
	h[25] = (uint8_t)(*seq >> 16);
	h[26] = (uint8_t)(*seq >> 8);
	h[27] = (uint8_t)*seq;
	if (flags & TCP_ACK) {
		h[28] = (uint8_t)(ack >> 24);
		h[29] = (uint8_t)(ack >> 16);
		h[30] = (uint8_t)(ack >> 8);
		h[31] = (uint8_t)ack;
	}
	h[32] = 5 << 4;
	h[33] = flags;
	h[34] = 0xff;		/* window 65535 */
	h[35] = 0xff;
	/* checksum over the pseudo-header, the TCP header and the payload */
	sum = pcapng_sum(0, h + 12, 8) + 6 + (uint32_t)(20 + len);
	sum = pcapng_sum(sum, h + 20, 20);
	sum = pcapng_sum(sum, data, len);
	c = pcapng_fold(sum);
	h[36] = (uint8_t)(c >> 8);
	h[37] = (uint8_t)c;
	*seq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
	if ((r = buf_put_u32(out, PCAPNG_EPB)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)(32 + plen + pad))) != 0 ||
	    (r = buf_put_u32(out, 0)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)(ts_us >> 32))) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)ts_us)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)plen)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)plen)) != 0 ||
	    (r = buf_put(out, h, sizeof(h))) != 0 ||
	    (len > 0 && (r = buf_put(out, data, len)) != 0) ||
	    (r = buf_put(out, zero, pad)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)(32 + plen + pad))) != 0)
		return r;
	return 0;
}

int
pcapng_data(struct buf *out, struct pcapng_flow *fl, uint64_t ts_us, int to_server,
    const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;
	int r;

	if (!fl->opened) {
		fl->opened = 1;
		if ((r = pcapng_segment(out, fl, ts_us, 1, TCP_SYN, NULL, 0)) != 0 ||
		    (r = pcapng_segment(out, fl, ts_us, 0, TCP_SYN | TCP_ACK, NULL, 0)) != 0 ||
		    (r = pcapng_segment(out, fl, ts_us, 1, TCP_ACK, NULL, 0)) != 0)
			return r;
	}
	do {
		n = len < PCAPNG_SEGMENT_MAX ? len : PCAPNG_SEGMENT_MAX;
		if ((r = pcapng_segment(out, fl, ts_us, to_server, TCP_PSH | TCP_ACK, p,
		    n)) != 0)
			return r;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

int
pcapng_close(struct buf *out, struct pcapng_flow *fl, uint64_t ts_us)
{
	int r;

	if (!fl->opened)
		return 0;
	if ((r = pcapng_segment(out, fl, ts_us, 1, TCP_FIN | TCP_ACK, NULL, 0)) != 0 ||
	    (r = pcapng_segment(out, fl, ts_us, 0, TCP_FIN | TCP_ACK, NULL, 0)) != 0)
		return r;
	return pcapng_segment(out, fl, ts_us, 1, TCP_ACK, NULL, 0);
}
