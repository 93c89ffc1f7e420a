/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The reader: one audio file in, blocks of interleaved float out, with the
 * file's description (container, codec, rate, channels, length) and tags.
 *
 * Two decoders sit behind one interface.  libsndfile reads the archive's
 * usual masters (WAV in all its variants: PCM 8-32 bit, float, A-law,
 * mu-law, WAVE_FORMAT_EXTENSIBLE, RF64, BWF with bext; AIFF; FLAC) and
 * gives BWF bext fields; libavformat/libavcodec read everything else (MP3,
 * Ogg Vorbis, Opus, AAC/M4A, ...).  Which one is chosen by the file's first
 * bytes, never its name: libsndfile gets only the containers it is known to
 * read well, which also keeps libsndfile's mpg123 (which prints to stderr)
 * away from anything that might be MP3.
 *
 * Always holds: the reader owns one block buffer (TRANSCODE_BLOCK frames
 * for libsndfile, one decoded frame for libavcodec) and nothing grows with
 * the file's length.  libavformat's probe must be confident (score above
 * AVPROBE_SCORE_RETRY): random bytes named .mp3 get a score of 1 from the
 * file name alone, and MPEG audio decoders find "frames" in any noise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libswresample/swresample.h>
#include <sndfile.h>

#include "transcode-internal.h"

struct reader {
	int channels;		/* interleaved channels in every block */
	int rate;		/* Hz */
	AVChannelLayout layout; /* what each channel is, possibly UNSPEC */
	float *buf;		/* the block handed out, owned */
	size_t cap;		/* frames buf holds */
	int64_t frames;		/* frames handed out so far */
	int64_t declared;	/* frames the header promised, 0 if unknown */
	int64_t slack;		/* how far short of declared a whole file may decode */

	SNDFILE *sf;	  /* libsndfile side, or NULL */
	char sf_why[128]; /* why libsndfile refused the file, if it did */

	AVFormatContext *fmt;	/* libavformat side, or NULL */
	AVCodecContext *dec;	/* the audio stream's decoder */
	AVPacket *pkt;		/* packet being read */
	AVFrame *frame;		/* frame being converted */
	SwrContext *swr;	/* decoder's sample format to interleaved float */
	AVChannelLayout swr_in; /* layout swr was set up for */
	int swr_fmt;		/* sample format swr was set up for */
	int stream;		/* index of the audio stream */
	int draining;		/* the demuxer is done; the decoder is flushing */
	int eof;		/* the decoder is flushed too */
	int64_t bad;		/* packets the decoder rejected */
	int64_t good;		/* frames it produced */
};

static int grow_buf(struct reader *r, size_t frames)
{
	float *b;

	if (frames <= r->cap)
		return 0;
	if (!(b = realloc(r->buf, frames * (size_t)r->channels * sizeof(float))))
		return -PRL_ENOMEM;
	r->buf = b;
	r->cap = frames;
	return 0;
}

/* ---- which decoder ---- */

enum sniffed { SNIFF_OTHER, SNIFF_RIFF, SNIFF_SNDFILE };

static enum sniffed sniff(const unsigned char *h, size_t n)
{
	if (n >= 12 && (!memcmp(h, "RIFF", 4) || !memcmp(h, "RF64", 4) || !memcmp(h, "BW64", 4)) &&
	    !memcmp(h + 8, "WAVE", 4))
		return SNIFF_RIFF;
	if (n >= 12 && !memcmp(h, "FORM", 4) &&
	    (!memcmp(h + 8, "AIFF", 4) || !memcmp(h + 8, "AIFC", 4)))
		return SNIFF_SNDFILE;
	if (n >= 4 && (!memcmp(h, "fLaC", 4) || !memcmp(h, "RIFX", 4) || !memcmp(h, "riff", 4) ||
		       !memcmp(h, "caff", 4) || !memcmp(h, ".snd", 4)))
		return SNIFF_SNDFILE;
	return SNIFF_OTHER;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What the chunk headers of a RIFF/RF64 WAV say. */
struct wav_scan {
	int64_t declared; /* frames the data chunk promises beyond the file, else 0 */
	unsigned format;  /* fmt chunk's format tag (the subformat's, for WAVEX) */
};

/* A recorder that loses power leaves a WAV whose data chunk size says
 * more than the file holds.  libsndfile quietly reads what is there; this
 * walk over the chunk headers finds what was promised, in frames, so the
 * caller can tell a truncated recording from a short one.  It also finds
 * the format tag, so codecs libsndfile does not decode well go to FFmpeg. */
static void wav_scan(FILE *f, int64_t file_size, struct wav_scan *out)
{
	unsigned char h[48];
	uint64_t ds64_data = 0;
	int64_t off = 12;
	unsigned align = 0;
	int chunks;

	memset(out, 0, sizeof(*out));
	for (chunks = 0; chunks < 4096 && off + 8 <= file_size; chunks++) {
		uint64_t size;

		if (fseeko(f, (off_t)off, SEEK_SET) < 0 || fread(h, 1, 8, f) != 8)
			return;
		size = le32(h + 4);
		if (!memcmp(h, "ds64", 4) && size >= 24) {
			if (fread(h + 8, 1, 24, f) != 24)
				return;
			ds64_data = le32(h + 16) | (uint64_t)le32(h + 20) << 32;
		} else if (!memcmp(h, "fmt ", 4) && size >= 16) {
			size_t want = size >= 40 ? 40 : 16;

			if (fread(h + 8, 1, want, f) != want)
				return;
			out->format = (unsigned)h[8] | (unsigned)h[9] << 8;
			align = (unsigned)h[20] | (unsigned)h[21] << 8;
			/* WAVE_FORMAT_EXTENSIBLE: the real tag opens the GUID */
			if (out->format == 0xfffe && want == 40)
				out->format = (unsigned)h[32] | (unsigned)h[33] << 8;
		} else if (!memcmp(h, "data", 4)) {
			if (size == 0xffffffffu && ds64_data)
				size = ds64_data;
			if (align && (int64_t)size > file_size - off - 8)
				out->declared = (int64_t)(size / align);
			return;
		}
		off += 8 + (int64_t)size + (int64_t)(size & 1);
	}
}

/* The WAV codecs libsndfile decodes well: PCM, float, A-law, mu-law, MS
 * and IMA ADPCM, GSM 6.10.  MPEG audio in a WAV (dictaphones) and the rest
 * go to FFmpeg, which also keeps libsndfile's mpg123 from printing. */
static int sndfile_wav_codec(unsigned tag)
{
	switch (tag) {
	case 0x0001:
	case 0x0002:
	case 0x0003:
	case 0x0006:
	case 0x0007:
	case 0x0011:
	case 0x0031:
		return 1;
	default:
		return 0;
	}
}

/* ---- libsndfile ---- */

static const char *sf_codec_name(int format)
{
	int big = (format & SF_FORMAT_ENDMASK) == SF_ENDIAN_BIG ||
		  ((format & SF_FORMAT_ENDMASK) == SF_ENDIAN_FILE &&
		   ((format & SF_FORMAT_TYPEMASK) == SF_FORMAT_AIFF ||
		    (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_AU ||
		    (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_CAF));

	if ((format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC)
		return "flac";
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
		return "pcm_s8";
	case SF_FORMAT_PCM_U8:
		return "pcm_u8";
	case SF_FORMAT_PCM_16:
		return big ? "pcm_s16be" : "pcm_s16le";
	case SF_FORMAT_PCM_24:
		return big ? "pcm_s24be" : "pcm_s24le";
	case SF_FORMAT_PCM_32:
		return big ? "pcm_s32be" : "pcm_s32le";
	case SF_FORMAT_FLOAT:
		return big ? "pcm_f32be" : "pcm_f32le";
	case SF_FORMAT_DOUBLE:
		return big ? "pcm_f64be" : "pcm_f64le";
	case SF_FORMAT_ULAW:
		return "pcm_mulaw";
	case SF_FORMAT_ALAW:
		return "pcm_alaw";
	case SF_FORMAT_IMA_ADPCM:
		return "adpcm_ima_wav";
	case SF_FORMAT_MS_ADPCM:
		return "adpcm_ms";
	case SF_FORMAT_GSM610:
		return "gsm_ms";
	case SF_FORMAT_G721_32:
		return "g721";
	default:
		return "pcm";
	}
}

static int sf_bits(int format)
{
	switch (format & SF_FORMAT_SUBMASK) {
	case SF_FORMAT_PCM_S8:
	case SF_FORMAT_PCM_U8:
	case SF_FORMAT_ULAW:
	case SF_FORMAT_ALAW:
		return 8;
	case SF_FORMAT_PCM_16:
		return 16;
	case SF_FORMAT_PCM_24:
		return 24;
	case SF_FORMAT_PCM_32:
	case SF_FORMAT_FLOAT:
		return 32;
	case SF_FORMAT_DOUBLE:
		return 64;
	case SF_FORMAT_IMA_ADPCM:
	case SF_FORMAT_MS_ADPCM:
		return 4;
	default:
		return 0;
	}
}

static const char *sf_container(int format)
{
	switch (format & SF_FORMAT_TYPEMASK) {
	case SF_FORMAT_WAV:
	case SF_FORMAT_WAVEX:
		return "wav";
	case SF_FORMAT_RF64:
		return "rf64";
	case SF_FORMAT_W64:
		return "w64";
	case SF_FORMAT_AIFF:
		return "aiff";
	case SF_FORMAT_FLAC:
		return "flac";
	case SF_FORMAT_CAF:
		return "caf";
	case SF_FORMAT_AU:
		return "au";
	default:
		return NULL; /* a container we leave to libavformat */
	}
}

static enum AVChannel sf_to_av_channel(int c)
{
	switch (c) {
	case SF_CHANNEL_MAP_MONO:
	case SF_CHANNEL_MAP_CENTER:
	case SF_CHANNEL_MAP_FRONT_CENTER:
		return AV_CHAN_FRONT_CENTER;
	case SF_CHANNEL_MAP_LEFT:
	case SF_CHANNEL_MAP_FRONT_LEFT:
		return AV_CHAN_FRONT_LEFT;
	case SF_CHANNEL_MAP_RIGHT:
	case SF_CHANNEL_MAP_FRONT_RIGHT:
		return AV_CHAN_FRONT_RIGHT;
	case SF_CHANNEL_MAP_REAR_CENTER:
		return AV_CHAN_BACK_CENTER;
	case SF_CHANNEL_MAP_REAR_LEFT:
		return AV_CHAN_BACK_LEFT;
	case SF_CHANNEL_MAP_REAR_RIGHT:
		return AV_CHAN_BACK_RIGHT;
	case SF_CHANNEL_MAP_LFE:
		return AV_CHAN_LOW_FREQUENCY;
	case SF_CHANNEL_MAP_FRONT_LEFT_OF_CENTER:
		return AV_CHAN_FRONT_LEFT_OF_CENTER;
	case SF_CHANNEL_MAP_FRONT_RIGHT_OF_CENTER:
		return AV_CHAN_FRONT_RIGHT_OF_CENTER;
	case SF_CHANNEL_MAP_SIDE_LEFT:
		return AV_CHAN_SIDE_LEFT;
	case SF_CHANNEL_MAP_SIDE_RIGHT:
		return AV_CHAN_SIDE_RIGHT;
	case SF_CHANNEL_MAP_TOP_CENTER:
		return AV_CHAN_TOP_CENTER;
	case SF_CHANNEL_MAP_TOP_FRONT_LEFT:
		return AV_CHAN_TOP_FRONT_LEFT;
	case SF_CHANNEL_MAP_TOP_FRONT_RIGHT:
		return AV_CHAN_TOP_FRONT_RIGHT;
	case SF_CHANNEL_MAP_TOP_FRONT_CENTER:
		return AV_CHAN_TOP_FRONT_CENTER;
	case SF_CHANNEL_MAP_TOP_REAR_LEFT:
		return AV_CHAN_TOP_BACK_LEFT;
	case SF_CHANNEL_MAP_TOP_REAR_RIGHT:
		return AV_CHAN_TOP_BACK_RIGHT;
	case SF_CHANNEL_MAP_TOP_REAR_CENTER:
		return AV_CHAN_TOP_BACK_CENTER;
	default:
		return AV_CHAN_NONE;
	}
}

/* The layout a WAVEX channel mask (or an AIFF/CAF layout) gives, when it
 * names distinct speakers in libavutil's native order; otherwise the usual
 * guess for the channel count (see set_default_layout). */
static void sf_layout(SNDFILE *sf, int channels, AVChannelLayout *out)
{
	int map[64];
	uint64_t mask = 0;
	int i, prev = -1;

	if (channels <= 64 && sf_command(sf, SFC_GET_CHANNEL_MAP_INFO, map,
					 (int)(channels * sizeof(int))) == SF_TRUE) {
		for (i = 0; i < channels; i++) {
			enum AVChannel ch = sf_to_av_channel(map[i]);

			if (ch == AV_CHAN_NONE || (int)ch <= prev)
				break;
			mask |= 1ULL << ch;
			prev = (int)ch;
		}
		if (i == channels && av_channel_layout_from_mask(out, mask) == 0)
			return;
	}
	out->order = AV_CHANNEL_ORDER_UNSPEC;
	out->nb_channels = channels;
}

static void sf_tags(SNDFILE *sf, struct prl_tags *tags)
{
	static const struct {
		int id;
		const char *key;
	} strs[] = {
		{SF_STR_TITLE, "title"},	 {SF_STR_ARTIST, "artist"},
		{SF_STR_ALBUM, "album"},	 {SF_STR_DATE, "date"},
		{SF_STR_COMMENT, "comment"},	 {SF_STR_GENRE, "genre"},
		{SF_STR_COPYRIGHT, "copyright"}, {SF_STR_SOFTWARE, "software"},
		{SF_STR_LICENSE, "license"},	 {SF_STR_TRACKNUMBER, "track"},
	};
	SF_BROADCAST_INFO *bext;
	const char *s;
	size_t i;

	/* The bext chunk is 600-odd bytes: too big for a comfortable stack
	 * frame in a worker thread, so it lives on the heap for a moment. */
	if ((bext = calloc(1, sizeof(*bext))) &&
	    sf_command(sf, SFC_GET_BROADCAST_INFO, bext, (int)sizeof(*bext)) == SF_TRUE) {
		tags_add(tags, "bext_description", bext->description, sizeof(bext->description));
		tags_add(tags, "bext_originator", bext->originator, sizeof(bext->originator));
		tags_add(tags, "bext_originator_reference", bext->originator_reference,
			 sizeof(bext->originator_reference));
		tags_add(tags, "bext_origination_date", bext->origination_date,
			 sizeof(bext->origination_date));
		tags_add(tags, "bext_origination_time", bext->origination_time,
			 sizeof(bext->origination_time));
	}
	free(bext);
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if ((s = sf_get_string(sf, strs[i].id)))
			tags_add(tags, strs[i].key, s, strlen(s));
}

/* Returns 0 when libsndfile has the file, 1 when libavformat should try
 * (why libsndfile could not is kept in r->sf_why), or a negative prl_err. */
static int open_sndfile(struct reader *r, const char *path, enum sniffed kind,
			struct prl_audio_info *info, struct prl_tags *tags, struct prl_buf *err)
{
	struct wav_scan scan = {0, 0};
	const char *container;
	struct stat st;
	SF_INFO si;
	FILE *f;

	if (kind == SNIFF_RIFF && (f = fopen(path, "rb"))) {
		if (fstat(fileno(f), &st) == 0)
			wav_scan(f, st.st_size, &scan);
		fclose(f);
		if (scan.format && !sndfile_wav_codec(scan.format))
			return 1;
	}
	memset(&si, 0, sizeof(si));
	if (!(r->sf = sf_open(path, SFM_READ, &si))) {
		snprintf(r->sf_why, sizeof(r->sf_why), "%s", sf_strerror(NULL));
		return 1;
	}
	if (!(container = sf_container(si.format))) {
		sf_close(r->sf);
		r->sf = NULL;
		return 1; /* not ours: let libavformat try */
	}
	if (si.channels < 1 || si.samplerate < 1)
		return transcode_fail(err, -PRL_EFORMAT, "invalid header: %d channels at %d Hz",
				      si.channels, si.samplerate);
	r->channels = si.channels;
	r->rate = si.samplerate;
	sf_layout(r->sf, si.channels, &r->layout);
	r->declared = scan.declared > si.frames ? scan.declared : 0;
	/* FLAC's STREAMINFO counts every sample of the stream, exactly */
	if ((si.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC && si.frames > 0 &&
	    si.frames < INT64_MAX / 2)
		r->declared = si.frames;

	memset(info, 0, sizeof(*info));
	info->sample_rate = si.samplerate;
	info->channels = si.channels;
	info->frames = si.frames;
	info->bits_per_sample = sf_bits(si.format);
	snprintf(info->container, sizeof(info->container), "%s", container);
	snprintf(info->codec, sizeof(info->codec), "%s", sf_codec_name(si.format));
	if (tags)
		sf_tags(r->sf, tags);
	return grow_buf(r, TRANSCODE_BLOCK);
}

static int next_sndfile(struct reader *r, float **data, struct prl_buf *err)
{
	sf_count_t n = sf_readf_float(r->sf, r->buf, TRANSCODE_BLOCK);

	if (n < 0 || (n == 0 && sf_error(r->sf) != SF_ERR_NO_ERROR && r->frames == 0))
		return transcode_fail(err, -PRL_ECODEC, "cannot decode: %s", sf_strerror(r->sf));
	*data = r->buf;
	r->frames += n;
	return (int)n;
}

/* ---- libavformat / libavcodec ---- */

static void av_tags(const AVDictionary *m, struct prl_tags *tags)
{
	const AVDictionaryEntry *e = NULL;

	while ((e = av_dict_get(m, "", e, AV_DICT_IGNORE_SUFFIX))) {
		size_t len = strlen(e->value);

		/* Binary blobs that FFmpeg exposes as text (ID3 PRIV frames,
		 * base64 cover art in Vorbis comments) are not metadata anyone
		 * reads; nor is anything the size of a book. */
		if (!strncmp(e->key, "id3v2_priv", 10) ||
		    !av_strcasecmp(e->key, "metadata_block_picture") || len > 65536)
			continue;
		tags_add(tags, e->key, e->value, len);
	}
}

static void av_container(const AVFormatContext *fmt, char *out, size_t size)
{
	const char *name = fmt->iformat->name;
	const AVDictionaryEntry *brand;
	size_t n = strcspn(name, ",");

	if (!strncmp(name, "mov", 3)) {
		brand = av_dict_get(fmt->metadata, "major_brand", NULL, 0);
		name = brand && !strncmp(brand->value, "qt", 2) ? "mov" : "mp4";
		n = strlen(name);
	}
	snprintf(out, size, "%.*s", (int)n, name);
}

/* An MP3 too short for libavformat's probe to be sure of (under about
 * twenty frames), proven MP3 by its frames chaining from end to end. */
#define SHORT_MPA_MAX (256 * 1024)

static int short_mpeg_audio(const AVFormatContext *fmt, const char *path)
{
	struct prl_buf file = PRL_BUF_INIT;
	int yes;

	if (strcmp(fmt->iformat->name, "mp3") != 0 || prl_read_file(path, SHORT_MPA_MAX, &file) < 0)
		return 0;
	yes = mpa_whole_chain((const unsigned char *)file.data, file.len) > 0;
	prl_buf_release(&file);
	return yes;
}

static int open_av(struct reader *r, const char *path, struct prl_audio_info *info,
		   struct prl_tags *tags, struct prl_buf *err)
{
	const AVCodec *codec = NULL;
	const AVCodecDescriptor *desc;
	AVStream *st;
	int ret;

	if ((ret = avformat_open_input(&r->fmt, path, NULL, NULL)) < 0) {
		if (ret == AVERROR(ENOMEM))
			return -PRL_ENOMEM;
		if (r->sf_why[0])
			return transcode_fail(err, -PRL_EFORMAT,
					      "not an audio file libsndfile or FFmpeg can "
					      "read (libsndfile: %s)",
					      r->sf_why);
		return transcode_fail(err, -PRL_EFORMAT,
				      "not an audio file libsndfile or FFmpeg can read");
	}
	if (r->fmt->probe_score <= AVPROBE_SCORE_RETRY && !short_mpeg_audio(r->fmt, path))
		return transcode_fail(err, -PRL_EFORMAT,
				      "not an audio file libsndfile or FFmpeg can read "
				      "(FFmpeg only guessed %s from the name)",
				      r->fmt->iformat->name);
	if ((ret = avformat_find_stream_info(r->fmt, NULL)) < 0)
		return transcode_fail(err, -PRL_EFORMAT, "damaged %s file: no stream could be read",
				      r->fmt->iformat->name);
	ret = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (ret == AVERROR_DECODER_NOT_FOUND)
		return transcode_fail(err, -PRL_EUNSUPPORTED, "no decoder for this file's audio");
	if (ret < 0)
		return transcode_fail(err, -PRL_EFORMAT, "no audio stream in this %s file",
				      r->fmt->iformat->name);
	r->stream = ret;
	st = r->fmt->streams[ret];
	if (!(r->dec = avcodec_alloc_context3(codec)) || !(r->pkt = av_packet_alloc()) ||
	    !(r->frame = av_frame_alloc()))
		return -PRL_ENOMEM;
	if ((ret = avcodec_parameters_to_context(r->dec, st->codecpar)) < 0)
		return transcode_fail(err, transcode_averr(ret, -PRL_ECODEC),
				      "bad codec parameters");
	r->dec->pkt_timebase = st->time_base;
	if ((ret = avcodec_open2(r->dec, codec, NULL)) < 0)
		return transcode_fail(err, transcode_averr(ret, -PRL_ECODEC),
				      "cannot open the %s decoder", codec->name);
	r->channels = r->dec->ch_layout.nb_channels;
	r->rate = r->dec->sample_rate;
	if (r->channels < 1 || r->rate < 1)
		return transcode_fail(err, -PRL_EFORMAT, "invalid stream: %d channels at %d Hz",
				      r->channels, r->rate);
	if ((ret = av_channel_layout_copy(&r->layout, &r->dec->ch_layout)) < 0)
		return -PRL_ENOMEM;

	memset(info, 0, sizeof(*info));
	info->sample_rate = r->rate;
	info->channels = r->channels;
	if (st->duration > 0)
		info->frames = av_rescale_q(st->duration, st->time_base, (AVRational){1, r->rate});
	else if (r->fmt->duration > 0)
		info->frames = av_rescale(r->fmt->duration, r->rate, AV_TIME_BASE);
	/* A length the container states (an MP4's track, an MP3's Xing or
	 * LAME frame count, a WAV's data size) is a promise a file cut short
	 * breaks; one FFmpeg estimated from the bit rate or the last packet
	 * is not.  Encoder delay and padding make a whole file decode a little
	 * off its stated length: half a second or 2% is allowed.  Ogg states
	 * no length: FFmpeg reads one off the last page's granule position,
	 * which is whatever the file holds, and for Opus counts the pre-skip
	 * that the decoder drops (up to 65,535 samples, 1.4 s), so only what
	 * decodes is counted there. */
	if (st->duration > 0 && r->fmt->duration_estimation_method == AVFMT_DURATION_FROM_STREAM &&
	    strcmp(r->fmt->iformat->name, "ogg") != 0) {
		r->declared = info->frames;
		r->slack = r->declared / 50 > r->rate / 2 ? r->declared / 50 : r->rate / 2;
	}
	desc = avcodec_descriptor_get(st->codecpar->codec_id);
	if (!desc || !(desc->props & AV_CODEC_PROP_LOSSY)) {
		info->bits_per_sample = st->codecpar->bits_per_raw_sample;
		if (!info->bits_per_sample)
			info->bits_per_sample = st->codecpar->bits_per_coded_sample;
	}
	av_container(r->fmt, info->container, sizeof(info->container));
	snprintf(info->codec, sizeof(info->codec), "%s", avcodec_get_name(st->codecpar->codec_id));
	if (tags) {
		av_tags(r->fmt->metadata, tags);
		av_tags(st->metadata, tags);
	}
	return 0;
}

/* Converts r->frame to interleaved float in r->buf. */
static int convert_frame(struct reader *r, struct prl_buf *err)
{
	AVFrame *fr = r->frame;
	uint8_t *outp[1];
	int ret, n;

	if (fr->ch_layout.nb_channels != r->channels || fr->sample_rate != r->rate)
		return transcode_fail(err, -PRL_EUNSUPPORTED,
				      "the stream changes from %d channels at %d Hz "
				      "to %d at %d Hz midway",
				      r->channels, r->rate, fr->ch_layout.nb_channels,
				      fr->sample_rate);
	if (!r->swr || fr->format != r->swr_fmt ||
	    av_channel_layout_compare(&fr->ch_layout, &r->swr_in)) {
		swr_free(&r->swr);
		av_channel_layout_uninit(&r->swr_in);
		if ((ret = av_channel_layout_copy(&r->swr_in, &fr->ch_layout)) < 0)
			return -PRL_ENOMEM;
		r->swr_fmt = fr->format;
		ret = swr_alloc_set_opts2(&r->swr, &fr->ch_layout, AV_SAMPLE_FMT_FLT, r->rate,
					  &fr->ch_layout, fr->format, r->rate, 0, NULL);
		if (ret < 0 || (ret = swr_init(r->swr)) < 0)
			return transcode_fail(err, transcode_averr(ret, -PRL_ECODEC),
					      "cannot convert the decoder's samples: %s",
					      av_err2str(ret));
	}
	if ((ret = grow_buf(r, (size_t)fr->nb_samples)) < 0)
		return ret;
	outp[0] = (uint8_t *)r->buf;
	n = swr_convert(r->swr, outp, fr->nb_samples, (const uint8_t **)fr->extended_data,
			fr->nb_samples);
	if (n < 0)
		return transcode_fail(err, -PRL_ECODEC, "cannot convert the decoder's samples: %s",
				      av_err2str(n));
	return n;
}

static int next_av(struct reader *r, float **data, struct prl_buf *err)
{
	int ret;

	while (!r->eof) {
		ret = avcodec_receive_frame(r->dec, r->frame);
		if (ret == 0) {
			r->good++;
			ret = convert_frame(r, err);
			av_frame_unref(r->frame);
			if (ret < 0)
				return ret;
			if (ret == 0)
				continue;
			*data = r->buf;
			r->frames += ret;
			return ret;
		}
		if (ret == AVERROR_EOF) {
			r->eof = 1;
			break;
		}
		if (ret == AVERROR_INVALIDDATA) {
			r->bad++;
			continue;
		}
		if (ret != AVERROR(EAGAIN))
			return transcode_fail(err, transcode_averr(ret, -PRL_ECODEC),
					      "cannot decode: %s", av_err2str(ret));
		/* The decoder wants a packet.  Any demuxer error is taken as
		 * the end of the file, as the ffmpeg tool does: what was
		 * read so far is the recording. */
		if (r->draining)
			return transcode_fail(err, -PRL_ECODEC,
					      "the decoder stalled while flushing");
		ret = av_read_frame(r->fmt, r->pkt);
		if (ret == AVERROR(ENOMEM))
			return -PRL_ENOMEM;
		if (ret < 0) {
			r->draining = 1;
			ret = avcodec_send_packet(r->dec, NULL);
		} else if (r->pkt->stream_index != r->stream) {
			av_packet_unref(r->pkt);
			continue;
		} else {
			ret = avcodec_send_packet(r->dec, r->pkt);
			av_packet_unref(r->pkt);
		}
		if (ret == AVERROR_INVALIDDATA)
			r->bad++;
		else if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
			return transcode_fail(err, transcode_averr(ret, -PRL_ECODEC),
					      "cannot decode: %s", av_err2str(ret));
	}
	/* A few damaged packets are tolerated (a scratched transfer is still
	 * a recording); a file that is mostly undecodable is not audio. */
	if (r->bad > 8 && r->bad > r->good)
		return transcode_fail(err, -PRL_EFORMAT,
				      "not an audio file libsndfile or FFmpeg can read "
				      "(%lld of %lld packets undecodable)",
				      (long long)r->bad, (long long)(r->bad + r->good));
	return 0;
}

/* ---- the interface ---- */

/* When the file does not say which channel is which, the usual guess for
 * its channel count: one is mono, two are left and right, six are 5.1 in
 * WAV order (LFE fourth), as FFmpeg and every recorder read them.  Other
 * counts stay unnamed; the meter weights them equally and the downmix
 * folds them by position. */
static void set_default_layout(AVChannelLayout *l)
{
	int n = l->nb_channels;

	if (l->order != AV_CHANNEL_ORDER_UNSPEC)
		return;
	if (n == 1)
		*l = (AVChannelLayout)AV_CHANNEL_LAYOUT_MONO;
	else if (n == 2)
		*l = (AVChannelLayout)AV_CHANNEL_LAYOUT_STEREO;
	else if (n == 6)
		*l = (AVChannelLayout)AV_CHANNEL_LAYOUT_5POINT1_BACK;
}

int reader_open(struct reader **out, const char *path, struct prl_audio_info *info,
		struct prl_tags *tags, struct prl_buf *err)
{
	struct prl_audio_info tmp;
	unsigned char head[12];
	struct reader *r;
	enum sniffed kind;
	struct stat st;
	size_t n;
	FILE *f;
	int ret;

	transcode_quiet();
	if (!(f = fopen(path, "rb")))
		return transcode_fail(err, errno == ENOENT ? -PRL_ENOTFOUND : -PRL_EIO,
				      "cannot open: %s", strerror(errno));
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return transcode_fail(err, -PRL_EINVAL, "not a regular file");
	}
	n = fread(head, 1, sizeof(head), f);
	ret = ferror(f);
	fclose(f);
	if (ret)
		return transcode_fail(err, -PRL_EIO, "cannot read: %s", strerror(errno));
	if (st.st_size == 0)
		return transcode_fail(err, -PRL_EFORMAT, "empty file");

	if (!(r = calloc(1, sizeof(*r))))
		return -PRL_ENOMEM;
	kind = sniff(head, n);
	ret = 1;
	if (kind != SNIFF_OTHER && (ret = open_sndfile(r, path, kind, &tmp, tags, err)) < 0)
		goto end;
	if (ret > 0 && (ret = open_av(r, path, &tmp, tags, err)) < 0)
		goto end;
	set_default_layout(&r->layout);
	/* Bounds that keep memory bounded: the loudness meter holds 3 s of
	 * every channel as doubles, and a hostile header can claim anything. */
	if (r->channels > TRANSCODE_MAX_CHANNELS || r->rate > TRANSCODE_MAX_RATE ||
	    r->rate < TRANSCODE_MIN_RATE) {
		ret = transcode_fail(err, -PRL_EUNSUPPORTED,
				     "%d channels at %d Hz: outside what the archive "
				     "takes (up to %d channels, %d to %d Hz)",
				     r->channels, r->rate, TRANSCODE_MAX_CHANNELS,
				     TRANSCODE_MIN_RATE, TRANSCODE_MAX_RATE);
		goto end;
	}
	*info = tmp;
	*out = r;
	return 0;
end:
	reader_free(&r);
	return ret;
}

int reader_next(struct reader *r, float **data, struct prl_buf *err)
{
	return r->sf ? next_sndfile(r, data, err) : next_av(r, data, err);
}

const AVChannelLayout *reader_layout(const struct reader *r)
{
	return &r->layout;
}

int64_t reader_declared_frames(const struct reader *r)
{
	return r->declared > r->frames + r->slack ? r->declared : 0;
}

void reader_free(struct reader **pr)
{
	struct reader *r;

	if (!pr || !(r = *pr))
		return;
	if (r->sf)
		sf_close(r->sf);
	swr_free(&r->swr);
	av_channel_layout_uninit(&r->swr_in);
	av_frame_free(&r->frame);
	av_packet_free(&r->pkt);
	avcodec_free_context(&r->dec);
	avformat_close_input(&r->fmt);
	av_channel_layout_uninit(&r->layout);
	free(r->buf);
	free(r);
	*pr = NULL;
}
