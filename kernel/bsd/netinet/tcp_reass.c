/*
 * TCP's out-of-order queue (RFC 9293, section 3.10.7.4, "seventh,
 * process the segment text"): segments that arrive past a hole wait
 * here, sorted by sequence number and trimmed so that no byte is held
 * twice, until the hole fills; then the run that starts at RCV.NXT goes
 * to the socket.  At most TCP_REASS_MAXSEGS segments per connection (and
 * the one filling the hole); the window already bounds their bytes.  Pure logic on a tcpcb: `selftest
 * tcp_reass` drives it by hand.
 */
#include <sys/systm.h>
#include <bsd/kern/mbuf_var.h>
#include <bsd/net/netstat_var.h>
#include <bsd/netinet/tcp_var.h>

static void
tcp_reass_free(struct tcpcb *tp, struct tseg_qent *q)
{
	TAILQ_REMOVE(&tp->t_segq, q, tqe_q);
	tp->t_segqlen--;
	if (q->tqe_m != NULL)
		m_freem(q->tqe_m);
	tcp_free(q, sizeof(*q));
}

void
tcp_reass_flush(struct tcpcb *tp)
{
	struct tseg_qent *q;

	while ((q = TAILQ_FIRST(&tp->t_segq)) != NULL)
		tcp_reass_free(tp, q);
}

/*
 * Put (seq, len, fin, m) in its place: trim what an earlier entry
 * already holds off its front, and what it covers off the entries
 * after it.  Consumes m (freed if nothing of it is new).
 */
static void
tcp_reass_insert(struct tcpcb *tp, tcp_seq seq, int len, int fin, mbuf_t m)
{
	struct tseg_qent *p = NULL, *q, *next, *te;
	int over;

	TAILQ_FOREACH(q, &tp->t_segq, tqe_q) {
		if (SEQ_GT(q->tqe_seq, seq))
			break;
		p = q;
	}
	/* The entry before: does it cover our start? */
	if (p != NULL) {
		over = (int)(p->tqe_seq + (tcp_seq)p->tqe_len - seq);
		if (over > 0) {
			if (over >= len && !(fin && !p->tqe_fin &&
			    over == len)) {
				NETSTAT_INC(tcpstat.tcps_reass_dup);
				m_freem(m);
				return;
			}
			if (over > len)
				over = len;
			m_adj(m, over);
			seq += (tcp_seq)over;
			len -= over;
		}
	}
	/* The entries after: cut what we cover. */
	for (; q != NULL; q = next) {
		next = TAILQ_NEXT(q, tqe_q);
		over = (int)(seq + (tcp_seq)len - q->tqe_seq);
		if (over <= 0)
			break;
		if (over < q->tqe_len) {
			q->tqe_seq += (tcp_seq)over;
			q->tqe_len -= over;
			m_adj(q->tqe_m, over);
			break;
		}
		fin |= q->tqe_fin;
		tcp_reass_free(tp, q);
	}
	/* Full: nothing more waits -- but the segment at RCV.NXT does not
	 * wait, it drains the queue; dropped, the hole would never fill. */
	if (tp->t_segqlen >= TCP_REASS_MAXSEGS && seq != tp->rcv_nxt) {
		NETSTAT_INC(tcpstat.tcps_reass_full);
		m_freem(m);
		return;
	}
	if ((te = tcp_alloc(sizeof(*te))) == NULL) {
		NETSTAT_INC(tcpstat.tcps_nomem);
		m_freem(m);
		return;
	}
	te->tqe_seq = seq;
	te->tqe_len = len;
	te->tqe_fin = fin;
	te->tqe_m = m;
	if (q != NULL)		/* the first entry after ours */
		TAILQ_INSERT_BEFORE(q, te, tqe_q);
	else
		TAILQ_INSERT_TAIL(&tp->t_segq, te, tqe_q);
	tp->t_segqlen++;
}

/*
 * Segments leave the queue linked by m_next into one chain, each still
 * a packet header of its own length.  The chain is one record for the
 * socket (and for a filter's sf_data_in, which reads
 * mbuf_pkthdr_len): its head must carry the whole run's length, and
 * the heads behind it are plain mbufs of the chain now.
 */
static void
tcp_reass_fixhdr(mbuf_t chain, int total)
{
	struct mbuf *n;

	if (chain == NULL || !(chain->m_flags & M_PKTHDR))
		return;
	chain->m_pkthdr.len = total;
	for (n = chain->m_next; n != NULL; n = n->m_next) {
		if (n->m_flags & M_PKTHDR)
			m_tag_delete_chain(n);
		n->m_flags &= ~M_PKTHDR;
	}
}

void
tcp_reass(struct tcpcb *tp, tcp_seq seq, int len, int fin, mbuf_t m,
    mbuf_t *inorder, int *fin_reached)
{
	struct mbuf **tail = inorder;
	struct tseg_qent *q;
	int total = 0;

	*inorder = NULL;
	*fin_reached = 0;
	if (m != NULL && (len > 0 || fin)) {
		if (seq != tp->rcv_nxt)
			NETSTAT_INC(tcpstat.tcps_rcvoopack);
		tcp_reass_insert(tp, seq, len, fin, m);
	} else if (m != NULL) {
		m_freem(m);
	}
	while ((q = TAILQ_FIRST(&tp->t_segq)) != NULL &&
	    q->tqe_seq == tp->rcv_nxt) {
		tp->rcv_nxt += (tcp_seq)q->tqe_len;
		total += q->tqe_len;
		NETSTAT_INC(tcpstat.tcps_rcvpack);
		NETSTAT_ADD(tcpstat.tcps_rcvbyte, q->tqe_len);
		*tail = q->tqe_m;
		while (*tail != NULL)
			tail = &(*tail)->m_next;
		q->tqe_m = NULL;
		if (q->tqe_fin)
			*fin_reached = 1;
		tcp_reass_free(tp, q);
		if (*fin_reached) {
			tcp_reass_flush(tp);	/* nothing counts after a FIN */
			break;
		}
	}
	tcp_reass_fixhdr(*inorder, total);
}
