#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Remakes the parlers sample corpus in this folder: audio, metadata sidecars
# (NAME.json), annotations (NAME.eaf or NAME.TextGrid) and README.md.
#
# The voices are synthetic stand-ins made with espeak-ng from sentences written
# for this corpus; the speakers are fictional.  Everything below (speakers,
# places, sentences and their French translations, audio settings) is the
# single source of the corpus.
#
#   usage: corpus/make-corpus.sh [--check]
#     --check   only verify the committed files (durations, XML, segment ends)
#   CORPUS_DEBUG=1 in the environment prints the loudness iterations.
#
# Needs: bash, python3 (standard library only), espeak-ng (French voice),
# sox, ffmpeg/ffprobe (libmp3lame, libvorbis, aac), xmllint.
# Output is deterministic: fixed seeds (sox -R), no dither, bit-exact muxers.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in python3 espeak-ng sox soxi ffmpeg ffprobe xmllint; do
    command -v "$tool" >/dev/null || { echo "make-corpus: $tool not found" >&2; exit 1; }
done

export LC_ALL=C.UTF-8 PYTHONHASHSEED=0 PYTHONIOENCODING=utf-8
exec python3 - "$here" "$@" <<'PY'
import json, os, random, re, shutil, subprocess, sys, tempfile
from xml.sax.saxutils import escape, quoteattr

OUT = sys.argv[1]
CHECK_ONLY = "--check" in sys.argv[2:]

# ---------------------------------------------------------------- people --
# Fictional speakers.  A speaker's fields are identical in every recording.
SPEAKERS = {
    "auguste": dict(name="Auguste Lebourgeois", pseudonym=False, birth_year=1911, sex="M",
                    occupation="pêcheur de homards", origin="Vauville",
                    consent="publication autorisée (1976)",
                    voice=dict(v="fr+m3", p=32, s=138)),
    "marielouise": dict(name="Marie-Louise Hamel", pseudonym=False, birth_year=1919, sex="F",
                        occupation="marchande de poisson", origin="Saint-Vaast-la-Hougue",
                        consent="publication autorisée (1977)",
                        voice=dict(v="fr+f3", p=58, s=150)),
    "desire": dict(name="Désiré Vimont", pseudonym=False, birth_year=1906, sex="M",
                   occupation="cultivateur", origin="Yvetot",
                   consent="publication autorisée (1981)",
                   voice=dict(v="fr+m5", p=28, s=132)),
    "philomene": dict(name="Philomène Le Sueur", pseudonym=False, birth_year=1928, sex="F",
                      occupation="institutrice", origin="Saint-Ouën (Jersey)",
                      consent="publication autorisée, sauf l'entretien sur la famille pendant "
                              "l'Occupation, réservé aux chercheurs (1994)",
                      voice=dict(v="fr+f2", p=52, s=158)),
    "theophile": dict(name="Théophile Grout", pseudonym=False, birth_year=1915, sex="M",
                      occupation="marin-pêcheur (terre-neuvas)", origin="Fécamp",
                      consent="publication autorisée (1982)",
                      voice=dict(v="fr+m2", p=40, s=146)),
    "madeleine": dict(name="Madeleine Y.", pseudonym=True, birth_year=1924, sex="F",
                      occupation="couturière", origin="Valognes",
                      consent="consultation interne seulement : la locutrice a refusé toute "
                              "diffusion de sa voix et a demandé un pseudonyme (1994)",
                      voice=dict(v="fr+f4", p=47, s=144)),
    "lecanu": dict(name="Marie Lecanu", pseudonym=False, birth_year=1947, sex="F",
                   occupation="ethnologue", origin="Cherbourg",
                   consent="enquêtrice, publication autorisée",
                   voice=dict(v="fr+f1", p=66, s=168)),
}

PLACES = {
    "beaumont": dict(name="La Hague", commune="Beaumont-Hague", lat=49.664, lon=-1.838),
    "vauville": dict(name="La Hague", commune="Vauville", lat=49.635, lon=-1.845),
    "stvaast": dict(name="Val de Saire", commune="Saint-Vaast-la-Hougue", lat=49.588, lon=-1.268),
    "valognes": dict(name="Clos du Cotentin", commune="Valognes", lat=49.509, lon=-1.470),
    "yvetot": dict(name="Pays de Caux", commune="Yvetot", lat=49.617, lon=0.754),
    "fecamp": dict(name="Pays de Caux", commune="Fécamp", lat=49.757, lon=0.375),
    "sthelier": dict(name="Jersey", commune="Saint-Hélier", lat=49.186, lon=-2.107),
}

COTENTIN = "Enquêtes du Cotentin et des Îles"
CAUX = "Parlers du Pays de Caux"

# ------------------------------------------------------------ recordings --
# fmt: wav16 | wav24 | wav8 | wavf32 | flac16 | mp3 | ogg | m4a
# noise: (sox synth type, peak level dB re the speech peak), hum: 50 Hz level dB or None
# band: (highpass Hz, lowpass Hz) applied to the voice (microphone / tape colour)
# lines: (speaker key, Norman, French); the first speaker listed is the main one.
RECORDINGS = [
  dict(stem="cotentin-1976-la-mezoun", fmt="wav16", rate=22050, channels=1, lufs=-23.0,
       annot="eaf", access="public", collection=COTENTIN, collector="Marie Lecanu",
       title="La mézoun de ma grand-mère", date="1976-06-14", place="beaumont",
       variety="Cotentinais", speakers=[("auguste", "speaker")],
       description="Auguste Lebourgeois décrit la maison familiale de Beaumont-Hague, "
                   "la cheminée, la lampe à pétrole et le vent de la mer.",
       keywords=["maison", "famille", "vie quotidienne", "hiver"],
       noise=("brownnoise", -42), hum=-54, band=(90, 7000),
       lines=[
        ("auguste", "Ch'est dans chutte mézoun-là que j'sis né, coume mon père avant mei.",
                    "C'est dans cette maison-là que je suis né, comme mon père avant moi."),
        ("auguste", "La mézoun était byin p'tite, o deux pièches et un guernier.",
                    "La maison était bien petite, avec deux pièces et un grenier."),
        ("auguste", "Ma grand-mère fésait la soupe sus l'fouyer, dans eune grànde marmite.",
                    "Ma grand-mère faisait la soupe sur le foyer, dans une grande marmite."),
        ("auguste", "L'vuus s'asseyait dans l'coin d'la quemînée et i fumait sa pipe.",
                    "Le vieux s'asseyait au coin de la cheminée et il fumait sa pipe."),
        ("auguste", "L'hivé, l'vent d'la mé souffllait par-dessous la porte.",
                    "L'hiver, le vent de la mer soufflait par-dessous la porte."),
        ("auguste", "Nos n'avions point d'électricité, ch'tait la lampe à pétrole.",
                    "Nous n'avions pas l'électricité, c'était la lampe à pétrole."),
        ("auguste", "Aniet la mézoun est vendue à des gens d'Paris, ch'est byin dommage.",
                    "Aujourd'hui la maison est vendue à des gens de Paris, c'est bien dommage."),
       ]),
  dict(stem="cotentin-1977-les-hitres", fmt="m4a", rate=48000, channels=2, lufs=-28.0,
       annot="textgrid", access="public", collection=COTENTIN, collector="Marie Lecanu",
       title="Les hîtres de Saint-Vaast", date="1977-09", place="stvaast",
       variety="Cotentinais", speakers=[("marielouise", "speaker"), ("lecanu", "interviewer")],
       description="Entretien avec Marie-Louise Hamel sur la vente du poisson sur le quai "
                   "et le ramassage des huîtres dans les parcs à marée basse.",
       keywords=["huîtres", "mer", "pêche", "travail des femmes", "marée"],
       noise=("pinknoise", -40), hum=None, band=(120, 8000),
       # interviewer close to the left microphone, speaker to the right one
       stereo=dict(marielouise=(0.45, 1.0), lecanu=(1.0, 0.4)),
       lines=[
        ("lecanu", "Et vous, Madame Hamel, qu'est-che que vos fésiez à la Hougue ?",
                   "Et vous, Madame Hamel, qu'est-ce que vous faisiez à la Hougue ?"),
        ("marielouise", "Mei, j'vendais l'pêquage sus l'quai, tous les matins que l'bouon Dieu fait.",
                        "Moi, je vendais le poisson sur le quai, tous les matins que le bon Dieu fait."),
        ("marielouise", "Les houmes partaient à la mé d'vant l'jour, coumme de juste.",
                        "Les hommes partaient en mer avant le jour, comme de juste."),
        ("marielouise", "À la basse iâo, nos allions ramasser les hîtres dans les parcs.",
                        "À marée basse, nous allions ramasser les huîtres dans les parcs."),
        ("marielouise", "Ch'tait byin dur, o les mains dans l'iâo frette tout l'hivé.",
                        "C'était bien dur, avec les mains dans l'eau froide tout l'hiver."),
        ("marielouise", "Mais j'avions d'la jouaie, et j'cantions en r'venant à la maisoun.",
                        "Mais nous avions de la joie, et nous chantions en revenant à la maison."),
        ("marielouise", "Ch'est eune vie qu'est finie, asteure.",
                        "C'est une vie qui est finie, maintenant."),
       ]),
  dict(stem="caux-1981-le-temps-des-foins", fmt="wav8", rate=22050, channels=1, lufs=-16.0,
       annot="eaf", access="public", collection=CAUX, collector="Henri Duboc",
       title="Le temps des foins", date="1981-07-02", place="yvetot",
       variety="Cauchois", speakers=[("desire", "speaker")],
       description="Désiré Vimont raconte la fenaison à la main dans les clos-masures "
                   "autour d'Yvetot, les chevaux et le cidre porté aux champs.",
       keywords=["foin", "agriculture", "chevaux", "cidre", "météo"],
       noise=("brownnoise", -44), hum=-52, band=(150, 7000),
       lines=[
        ("desire", "Dans l'temps, ch'est à la main qu'on fauquait l'foin dans la masure.",
                   "Autrefois, c'est à la main qu'on fauchait le foin dans la cour-masure."),
        ("desire", "J'tions quat' ou chinq à la fauque, d'pis l'matin jusqu'au sé.",
                   "Nous étions quatre ou cinq à la fauche, depuis le matin jusqu'au soir."),
        ("desire", "Les quévaux tiraient la quérette, et l'vuus criait après yeux.",
                   "Les chevaux tiraient la charrette, et le vieux criait après eux."),
        ("desire", "À midi, la patronne nous apportait l'bère et l'pain dans l'camp.",
                   "À midi, la patronne nous apportait le cidre et le pain dans le champ."),
        ("desire", "Quand l'temps tournait à la pluie, fallait s'dépêquer d'rentrer cha.",
                   "Quand le temps tournait à la pluie, il fallait se dépêcher de rentrer ça."),
        ("desire", "Ch'tait bin du mal, mais on était contents coumme tout.",
                   "C'était bien de la peine, mais on était contents comme tout."),
        ("desire", "Anhui, ch'est la machine qui fait tout, et y a pus personne dans les cours.",
                   "Aujourd'hui, c'est la machine qui fait tout, et il n'y a plus personne dans les cours."),
       ]),
  dict(stem="jersey-1994-la-maison-et-la-famille", fmt="wavf32", rate=16000, channels=1, lufs=-20.0,
       annot="textgrid", access="restricted", collection=COTENTIN, collector="Marie Lecanu",
       title="La maîson et la famille pendant l'Occupation", date="1994-03-22", place="sthelier",
       variety="Jèrriais", speakers=[("philomene", "speaker")],
       description="Philomène Le Sueur parle de la ferme familiale de Saint-Ouën, de l'Occupation "
                   "et de la langue à l'école. Réservé aux chercheurs à la demande de la locutrice.",
       keywords=["famille", "ferme", "Occupation", "école", "langue"],
       noise=("pinknoise", -50), hum=None, band=(70, 7600),
       lines=[
        ("philomene", "Man péthe 'tait fèrmier à Saint Ouën, et nou vivait dans eune vielle maîson d'pièrre.",
                      "Mon père était fermier à Saint-Ouen, et on vivait dans une vieille maison de pierre."),
        ("philomene", "Nou-s'avait des vaques jèrriaises et un p'tit clios d'patates.",
                      "On avait des vaches jersiaises et un petit champ de pommes de terre."),
        ("philomene", "Ma méthe faisait tout l'ouvrage d'la maîson, et bein d'autres choses acouo.",
                      "Ma mère faisait tout le travail de la maison, et bien d'autres choses encore."),
        ("philomene", "Pendant l'Occupâtion, ch'tait dur pouor nous autres, i n'y avait pon à mangi.",
                      "Pendant l'Occupation, c'était dur pour nous autres, il n'y avait rien à manger."),
        ("philomene", "Man fréthe fut prins par les Allemands, et nou n'en pâle pon.",
                      "Mon frère fut pris par les Allemands, et on n'en parle pas."),
        ("philomene", "Mais mé, j'ai tréjous pâlé jèrriais à la maîson, coumme ma méthe.",
                      "Mais moi, j'ai toujours parlé jersiais à la maison, comme ma mère."),
       ]),
  dict(stem="caux-1982-terre-neuve", fmt="flac16", rate=44100, channels=1, lufs=-18.0,
       annot="textgrid", access="public", collection=CAUX, collector="Henri Duboc",
       title="À la pêque à Terre-Neuve", date="1982", place="fecamp",
       variety="Cauchois", speakers=[("theophile", "speaker")],
       description="Théophile Grout, ancien terre-neuvas, se souvient des campagnes de pêche "
                   "à la morue parties de Fécamp.",
       keywords=["pêche", "mer", "morue", "Terre-Neuve", "marins"],
       noise=("brownnoise", -46), hum=-58, band=(100, 7500),
       lines=[
        ("theophile", "J'sis parti à la pêque à Terre-Neuve à quatorze ans, coumme mousse.",
                      "Je suis parti à la pêche à Terre-Neuve à quatorze ans, comme mousse."),
        ("theophile", "Ch'est d'Fécamp qu'les bateaux partaient, au mois d'mars.",
                      "C'est de Fécamp que les bateaux partaient, au mois de mars."),
        ("theophile", "On restait six mois sus la mé, sans vei la terre.",
                      "On restait six mois sur la mer, sans voir la terre."),
        ("theophile", "La morue, on la salait dans la cale, à longueur d'journée.",
                      "La morue, on la salait dans la cale, à longueur de journée."),
        ("theophile", "Quand l'brouillard était d'sus l'banc, on entendait rin qu'la corne.",
                      "Quand le brouillard était sur le banc, on n'entendait que la corne."),
        ("theophile", "Y en a bin qui sont jamais r'venus à la mézon.",
                      "Il y en a bien qui ne sont jamais revenus à la maison."),
        ("theophile", "Mé, j'ai eu d'la chance, ch'est tout.",
                      "Moi, j'ai eu de la chance, c'est tout."),
       ]),
  dict(stem="cotentin-1977-le-temps-qu-il-fait", fmt="wav24", rate=16000, channels=1, lufs=-31.0,
       annot="eaf", access="public", collection=COTENTIN, collector="Marie Lecanu",
       title="Le temps qu'i fait", date="1977-09-18", place="stvaast",
       variety="Cotentinais", speakers=[("marielouise", "speaker")],
       description="Marie-Louise Hamel donne les signes du temps qu'on lisait au Val de Saire : "
                   "le vent d'amont, Tatihou, les mouettes, et l'hiver de la grande gelée.",
       keywords=["météo", "mer", "dictons", "hiver", "oiseaux"],
       noise=("pinknoise", -44), hum=-60, band=(110, 7000),
       lines=[
        ("marielouise", "Quand l'vent est d'amont, ch'est signe de byau temps.",
                        "Quand le vent est d'est, c'est signe de beau temps."),
        ("marielouise", "Mais quand Tatihou s'rapproche, la pllie n'est pas lien.",
                        "Mais quand Tatihou se rapproche, la pluie n'est pas loin."),
        ("marielouise", "Les vuus d'ichin r'gardaient les mauves pour savei l'temps qu'i f'rait.",
                        "Les vieux d'ici regardaient les mouettes pour savoir le temps qu'il ferait."),
        ("marielouise", "Quand les mauves r'venaient dans les caumps, ch'tait la tempête.",
                        "Quand les mouettes revenaient dans les champs, c'était la tempête."),
        ("marielouise", "L'hivé d'la grànde gelée, la mé était blanche coume du lait.",
                        "L'hiver de la grande gelée, la mer était blanche comme du lait."),
        ("marielouise", "Les batiaux sont restés au port byin pus d'un mais.",
                        "Les bateaux sont restés au port bien plus d'un mois."),
       ]),
  dict(stem="caux-1981-le-bere-et-les-pommiers", fmt="mp3", rate=44100, channels=1, lufs=-14.0,
       annot="eaf", access="public", collection=CAUX, collector="Henri Duboc",
       title="Le bère et les pommiers", date="1981-07", place="yvetot",
       variety="Cauchois", speakers=[("desire", "speaker")],
       description="Désiré Vimont explique la cueillette des pommes, le pressoir et le cidre "
                   "(« bère ») de la ferme.",
       keywords=["cidre", "pommes", "pressoir", "agriculture", "calvados"],
       noise=("brownnoise", -60), hum=-66, band=(120, 8500),
       lines=[
        ("desire", "Dans la cour, y avait chinquante pommiers, des bons et des pas bons.",
                   "Dans la cour, il y avait cinquante pommiers, des bons et des pas bons."),
        ("desire", "À la Saint-Michel, on abattait les pommes à la gaule.",
                   "À la Saint-Michel, on abattait les pommes à la gaule."),
        ("desire", "Ch'est l'vieux qui menait l'pressoué, pac'qu'i savait y faire.",
                   "C'est le vieux qui menait le pressoir, parce qu'il savait y faire."),
        ("desire", "L'bère, on l'mettait dans les tonneaux, dans l'cellier d'la mézon.",
                   "Le cidre, on le mettait dans les tonneaux, dans le cellier de la maison."),
        ("desire", "L'gros bère, ch'tait pour les houmes qui travaillaient dans les camps.",
                   "Le gros cidre, c'était pour les hommes qui travaillaient dans les champs."),
        ("desire", "Et l'dimanche, on buvait eune goutte de calva, coume de juste.",
                   "Et le dimanche, on buvait une goutte de calvados, comme de juste."),
        ("desire", "Cha, ch'est la vie d'cheu nous, ch'est bin simple.",
                   "Ça, c'est la vie de chez nous, c'est bien simple."),
       ]),
  dict(stem="cotentin-1976-le-vraic", fmt="ogg", rate=22050, channels=1, lufs=-25.0,
       annot="textgrid", access="public", collection=COTENTIN, collector="Marie Lecanu",
       title="Les casiers et le vraic", date="1976-06-15", place="vauville",
       variety="Cotentinais", speakers=[("auguste", "speaker")],
       description="Auguste Lebourgeois à Vauville : la pêche aux casiers au raz de la Hague "
                   "et le goémon ramassé sur la grève pour fumer les champs.",
       keywords=["pêche", "mer", "goémon", "homard", "agriculture"],
       noise=("brownnoise", -38), hum=None, band=(90, 7000),
       lines=[
        ("auguste", "L'matin, j'allions r'lever les casiers à homards au raz d'la Hague.",
                    "Le matin, nous allions relever les casiers à homards au raz de la Hague."),
        ("auguste", "L'courant est byin fort par là, faut counaître la mé.",
                    "Le courant est bien fort par là, il faut connaître la mer."),
        ("auguste", "Mon vuus père m'a apprins à ramer dès qu'j'ai seu martchi.",
                    "Mon vieux père m'a appris à ramer dès que j'ai su marcher."),
        ("auguste", "Après les grànds vents, nos ramassions l'vraic sus la grève.",
                    "Après les grands vents, nous ramassions le goémon sur la grève."),
        ("auguste", "L'vraic, ch'tait pour fumer les caumps, coume engrais.",
                    "Le goémon, c'était pour fumer les champs, comme engrais."),
        ("auguste", "Nos l'rentrions à la maisoun o la carriole et l'qu'va.",
                    "Nous le rentrions à la maison avec la carriole et le cheval."),
        ("auguste", "Ch'est-i pas byin, la vie d'la mé ?",
                    "N'est-ce pas bien, la vie de la mer ?"),
       ]),
  dict(stem="cotentin-1994-souvenirs-de-couturiere", fmt="mp3", rate=32000, channels=1, lufs=-35.0,
       annot="eaf", access="private", collection=COTENTIN, collector="Marie Lecanu",
       title="Souvenirs de couturière", date="1994-11-05", place="valognes",
       variety="Cotentinais", speakers=[("madeleine", "speaker")],
       description="Une couturière de Valognes (pseudonyme) se souvient de son apprentissage. "
                   "Consultation interne seulement : la locutrice a refusé la diffusion.",
       keywords=["couture", "travail des femmes", "guerre", "apprentissage"],
       noise=("pinknoise", -48), hum=-56, band=(80, 7200),
       lines=[
        ("madeleine", "J'ai coumenchi à couôdre à douze ans, cheu eune couturière de Valognes.",
                      "J'ai commencé à coudre à douze ans, chez une couturière de Valognes."),
        ("madeleine", "Ch'tait dans eune grànde mésoun, auprès d'l'église.",
                      "C'était dans une grande maison, près de l'église."),
        ("madeleine", "Nos fésions les robes des dames et les quemises des houmes.",
                      "Nous faisions les robes des dames et les chemises des hommes."),
        ("madeleine", "La patronne était dure, mais oule était byin juste.",
                      "La patronne était dure, mais elle était bien juste."),
        ("madeleine", "Pendant la guerre, nos r'tournions les vuus habits pour en faire des neufs.",
                      "Pendant la guerre, nous retournions les vieux habits pour en faire des neufs."),
        ("madeleine", "Ch'est des souvenirs que j'garde pour mei et ma famille.",
                      "Ce sont des souvenirs que je garde pour moi et ma famille."),
       ]),
  dict(stem="jersey-1994-au-marchi", fmt="ogg", rate=48000, channels=2, lufs=-12.0,
       annot="textgrid", access="public", collection=COTENTIN, collector="Marie Lecanu",
       title="Au marchi d'Saint Hélyi", date="1994-03-23", place="sthelier",
       variety="Jèrriais", speakers=[("philomene", "speaker")],
       description="Philomène Le Sueur au marché de Saint-Hélier : le jersiais des pêcheurs, "
                   "les ormeaux, le vraic pour les pommes de terre.",
       keywords=["marché", "mer", "goémon", "langue", "pêche"],
       noise=("pinknoise", -42), hum=None, band=(80, 9000),
       stereo=dict(philomene=(1.0, 0.8)),
       lines=[
        ("philomene", "Anniet, nou s'en va au marchi d'Saint Hélyi, coumme tous les sam'dis.",
                      "Aujourd'hui, on s'en va au marché de Saint-Hélier, comme tous les samedis."),
        ("philomene", "Lé marchi est plein d'monde, et nou pâle angliais partout.",
                      "Le marché est plein de monde, et on parle anglais partout."),
        ("philomene", "Mais auprès des pêtcheurs, nou-s'ouït acouo du jèrriais.",
                      "Mais près des pêcheurs, on entend encore du jersiais."),
        ("philomene", "I' vendent lé pêtchon d'la mé, des crabes et des ormers.",
                      "Ils vendent le poisson de la mer, des crabes et des ormeaux."),
        ("philomene", "Quand la mé est basse, nou r'tchieult lé vraic sus la grève.",
                      "Quand la mer est basse, on recueille le varech sur la grève."),
        ("philomene", "Ch'est bein bon pouor les patates, coumme disait man grand-péthe.",
                      "C'est bien bon pour les pommes de terre, comme disait mon grand-père."),
        ("philomene", "Et pis nou r'vînt à la maîson, à la nuit.",
                      "Et puis on revient à la maison, à la nuit."),
       ]),
]

EXT = dict(wav16="wav", wav24="wav", wav8="wav", wavf32="wav", flac16="flac",
           mp3="mp3", ogg="ogg", m4a="m4a")
FORMAT_LABEL = dict(wav16="WAV PCM 16-bit", wav24="WAV PCM 24-bit", wav8="WAV PCM 8-bit (unsigned)",
                    wavf32="WAV float 32-bit", flac16="FLAC 16-bit", mp3="MP3 (LAME)",
                    ogg="Ogg Vorbis", m4a="M4A (AAC-LC)")
MIME = dict(wav="audio/x-wav", flac="audio/flac", mp3="audio/mpeg", ogg="audio/ogg", m4a="audio/mp4")
LANG = "nrf"            # ISO 639-3, Norman (Jèrriais, Guernésiais, and mainland Norman here)
BITRATE = {1: 96, 2: 128}   # kb/s of the MP3 and AAC files, mono and stereo
QUANTUM_MS = 20         # every boundary falls on a 20 ms grid: whole samples at 16k..48k

def run(*cmd, capture=False):
    r = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("make-corpus: command failed: %s\n%s" % (" ".join(map(str, cmd)), r.stderr))
    return (r.stdout or "") + (r.stderr or "")

def samples(path):
    return int(run("soxi", "-s", path, capture=True).split()[0])

def loudness(path):
    """Integrated loudness (LUFS) and true peak (dBTP) as ffmpeg's ebur128 filter measures them."""
    out = run("ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", path,
              "-af", "ebur128=peak=true", "-f", "null", "-", capture=True)
    summary = out[out.rindex("Summary:"):]
    i = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    tp = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return i, tp, summary

def ebur128_table(path):
    out = run("ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", path,
              "-af", "ebur128=peak=true", "-f", "null", "-", capture=True)
    return out[out.rindex("Summary:"):].strip()

def probe(path):
    out = run("ffprobe", "-v", "error", "-show_entries",
              "format=duration,format_name:stream=codec_name,sample_rate,channels,"
              "bits_per_sample,bits_per_raw_sample,sample_fmt",
              "-of", "json", path, capture=True)
    return json.loads(out)

# ------------------------------------------------------------- audio -----
def make_audio(rec, tmp):
    rate, ch = rec["rate"], rec["channels"]
    q = rate * QUANTUM_MS // 1000
    rng = random.Random("parlers-corpus:" + rec["stem"])
    voices = {}                       # speaker key -> list of (start_sample, file) on its track
    segs = []                         # (start_sample, end_sample, norman, french, speaker)
    pos = q * rng.randint(40, 70)     # 0.8 .. 1.4 s of room tone before the first sentence
    lo, hi = rec["band"]
    for n, (who, norman, french) in enumerate(rec["lines"]):
        v = SPEAKERS[who]["voice"]
        raw = os.path.join(tmp, "raw%02d.wav" % n)
        seg = os.path.join(tmp, "seg%02d.wav" % n)
        run("espeak-ng", "-v", v["v"], "-p", v["p"], "-s", v["s"], "-w", raw, norman)
        # trim espeak's own silence, keep 30 ms before and 50 ms after the voice,
        # colour it like the microphone/tape, then round the length up to the grid
        run("sox", "-R", raw, "-r", rate, "-c", 1, "-b", 32, "-e", "floating-point", seg,
            "silence", 1, 0.005, "-50d", "reverse", "silence", 1, 0.005, "-50d", "reverse",
            "highpass", lo, "lowpass", hi, "rate", "-h", rate, "pad", "0.03", "0.05")
        k = samples(seg)
        k2 = -(-k // q) * q
        segp = os.path.join(tmp, "segp%02d.wav" % n)
        run("sox", "-R", seg, segp, "pad", "0", "%ds" % (k2 - k))
        voices.setdefault(who, []).append((pos, segp))
        segs.append((pos, pos + k2, norman, french, who))
        pos += k2
        if n + 1 < len(rec["lines"]):
            pos += q * rng.randint(30, 80)   # 0.6 .. 1.6 s pause
    total = pos + q * rng.randint(50, 75)    # 1.0 .. 1.5 s of room tone after the last one

    def track(who):
        """One mono track with this speaker's sentences at their places, silence elsewhere."""
        parts, at, i = [], 0, 0
        for start, f in voices.get(who, []):
            if start > at:
                sil = os.path.join(tmp, "sil-%s-%d.wav" % (who, i)); i += 1
                run("sox", "-R", "-r", rate, "-c", 1, "-n", "-b", 32, "-e", "floating-point",
                    sil, "trim", "0", "%ds" % (start - at))
                parts.append(sil)
            parts.append(f)
            at = start + samples(f)
        if total > at:
            sil = os.path.join(tmp, "sil-%s-end.wav" % who)
            run("sox", "-R", "-r", rate, "-c", 1, "-n", "-b", 32, "-e", "floating-point",
                sil, "trim", "0", "%ds" % (total - at))
            parts.append(sil)
        out = os.path.join(tmp, "track-%s.wav" % who)
        if len(parts) == 1:
            shutil.copy(parts[0], out)
        else:
            run("sox", "-R", *parts, out)
        return out

    who_order = []
    for who, _, _ in rec["lines"]:
        if who not in who_order:
            who_order.append(who)
    tracks = [track(w) for w in who_order]
    speech = os.path.join(tmp, "speech.wav")
    if ch == 1:
        if len(tracks) == 1:
            shutil.copy(tracks[0], speech)
        else:
            run("sox", "-R", "-m", *sum([["-v", 1, t] for t in tracks], []), speech)
    else:
        gains = rec["stereo"]
        left = ",".join("%dv%.3f" % (i + 1, gains[w][0]) for i, w in enumerate(who_order))
        right = ",".join("%dv%.3f" % (i + 1, gains[w][1]) for i, w in enumerate(who_order))
        if len(tracks) == 1:
            run("sox", "-R", tracks[0], speech, "remix", left, right)
        else:
            run("sox", "-R", "-M", *tracks, speech, "remix", left, right)
    run("sox", "-R", speech, os.path.join(tmp, "speech-n.wav"), "gain", "-n", "-3")
    speech = os.path.join(tmp, "speech-n.wav")

    # room tone / tape hiss, and mains hum, relative to the speech peak (-3 dBFS)
    kind, level = rec["noise"]
    noise = os.path.join(tmp, "noise.wav")
    run("sox", "-R", "-r", rate, "-c", ch, "-n", "-b", 32, "-e", "floating-point", noise,
        "synth", "%ds" % total, kind, "highpass", 40, "gain", "-n", level - 3)
    layers = ["-v", 1, speech, "-v", 1, noise]
    if rec["hum"] is not None:
        hum = os.path.join(tmp, "hum.wav")
        run("sox", "-R", "-r", rate, "-c", ch, "-n", "-b", 32, "-e", "floating-point", hum,
            "synth", "%ds" % total, "sine", 50, "synth", "sine", "mix", 150,
            "gain", "-n", rec["hum"] - 3)
        layers += ["-v", 1, hum]
    mix = os.path.join(tmp, "mix.wav")
    run("sox", "-R", "-m", *layers, mix)
    assert samples(mix) == total, (samples(mix), total)

    # loudness: measure, apply gain, encode, measure the result, correct until on target.
    # When the gain would push the true peak above -1.5 dBTP, a compressor and a look-ahead
    # limiter (as a recorder's automatic level control would) hold the peaks; the limiter's
    # delay is compensated, so the sentences stay exactly where they were.
    dest = os.path.join(OUT, rec["stem"] + "." + EXT[rec["fmt"]])
    l0, tp0, _ = loudness(mix)
    gain = rec["lufs"] - l0
    rec["limited"] = tp0 + gain > -1.5
    prev = None
    for _ in range(12):
        src, post = mix, gain
        if rec["limited"]:
            src, post = os.path.join(tmp, "limited.wav"), 0.0
            run("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", mix,
                "-af", "acompressor=threshold=%.5f:ratio=3:attack=2:release=80:knee=4,volume=%.3fdB,"
                "alimiter=limit=%.2f:attack=3:release=60:level=0:latency=1"
                % (10 ** ((l0 + 3) / 20), gain, 0.6 if rec["fmt"] == "wav8" else 0.7),
                "-fflags", "+bitexact", "-flags:a", "+bitexact", "-c:a", "pcm_f32le", src)
            assert samples(src) == total, (samples(src), total)
        encode(rec, src, post, dest, tmp)
        got = loudness(dest)[0]
        if os.environ.get("CORPUS_DEBUG"):
            print("   %s: gain %.2f dB -> %.2f LUFS" % (rec["stem"], gain, got), file=sys.stderr)
        if abs(got - rec["lufs"]) <= 0.1:
            break
        # secant step: under the limiter a dB of gain brings less than a dB of loudness
        slope = 1.0 if prev is None or gain == prev[0] else (got - prev[1]) / (gain - prev[0])
        prev = (gain, got)
        gain += (rec["lufs"] - got) / min(1.0, max(0.15, slope))
    return dest, total, segs

def encode(rec, mix, gain, dest, tmp):
    fmt = rec["fmt"]
    g = ["gain", "%.2f" % gain]
    if fmt == "wav16":
        run("sox", "-R", "-D", mix, "-b", 16, "-e", "signed-integer", dest, *g)
    elif fmt == "wav24":
        run("sox", "-R", "-D", mix, "-b", 24, "-e", "signed-integer", dest, *g)
    elif fmt == "wav8":
        run("sox", "-R", "-D", mix, "-b", 8, "-e", "unsigned-integer", dest, *g)
    elif fmt == "wavf32":
        run("sox", "-R", "-D", mix, "-b", 32, "-e", "floating-point", dest, *g)
    elif fmt == "flac16":
        run("sox", "-R", "-D", mix, "-b", 16, "-C", 8, dest, *g)
    else:
        pcm = os.path.join(tmp, "gained.wav")
        run("sox", "-R", "-D", mix, "-b", 16, "-e", "signed-integer", pcm, *g)
        codec = dict(mp3=["-c:a", "libmp3lame", "-b:a", "%sk" % BITRATE[rec["channels"]]],
                     ogg=["-c:a", "libvorbis", "-q:a", "3"],
                     m4a=["-c:a", "aac", "-b:a", "%sk" % BITRATE[rec["channels"]],
                          "-movflags", "+faststart"])[fmt]
        run("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", pcm,
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            *codec, dest)

# ----------------------------------------------------- sidecars, tiers -----
def ms(samples_, rate):
    v = samples_ * 1000 // rate
    assert v * rate == samples_ * 1000, "not on the ms grid"
    return v

def speaker_json(key, role):
    s = SPEAKERS[key]
    return dict(name=s["name"], pseudonym=s["pseudonym"], birth_year=s["birth_year"], sex=s["sex"],
                occupation=s["occupation"], origin=s["origin"], consent=s["consent"], role=role)

def write_json(rec):
    meta = dict(title=rec["title"], date=rec["date"], collection=rec["collection"],
                place=PLACES[rec["place"]], variety=rec["variety"], language=LANG,
                collector=rec["collector"], rights="CC BY-NC 4.0", access=rec["access"],
                description=rec["description"], keywords=rec["keywords"],
                speakers=[speaker_json(k, r) for k, r in rec["speakers"]])
    with open(os.path.join(OUT, rec["stem"] + ".json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=2)
        f.write("\n")

def tg_num(x_ms):
    s = "%.3f" % (x_ms / 1000)
    s = s.rstrip("0").rstrip(".")
    return s if s else "0"

def tg_str(s):
    return '"' + s.replace('"', '""') + '"'

def write_textgrid(rec, total_ms, segs_ms):
    def intervals(texts):
        out, at = [], 0
        for (a, b), t in zip([(s[0], s[1]) for s in segs_ms], texts):
            if a > at:
                out.append((at, a, ""))
            out.append((a, b, t))
            at = b
        if total_ms > at:
            out.append((at, total_ms, ""))
        return out
    tiers = [("transcription", intervals([s[2] for s in segs_ms])),
             ("traduction", intervals([s[3] for s in segs_ms]))]
    L = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "",
         "xmin = 0 ", "xmax = %s " % tg_num(total_ms), "tiers? <exists> ",
         "size = %d " % len(tiers), "item []: "]
    for i, (name, ivs) in enumerate(tiers, 1):
        L += ["    item [%d]:" % i, '        class = "IntervalTier" ',
              "        name = %s " % tg_str(name), "        xmin = 0 ",
              "        xmax = %s " % tg_num(total_ms), "        intervals: size = %d " % len(ivs)]
        for j, (a, b, t) in enumerate(ivs, 1):
            L += ["        intervals [%d]:" % j, "            xmin = %s " % tg_num(a),
                  "            xmax = %s " % tg_num(b), "            text = %s " % tg_str(t)]
    with open(os.path.join(OUT, rec["stem"] + ".TextGrid"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")

def write_eaf(rec, total_ms, segs_ms):
    stem, ext = rec["stem"], EXT[rec["fmt"]]
    main = SPEAKERS[rec["speakers"][0][0]]["name"]
    n = len(segs_ms)
    A = lambda s: quoteattr(s)
    L = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<ANNOTATION_DOCUMENT AUTHOR=%s DATE="2025-01-15T10:00:00+01:00" FORMAT="3.0" VERSION="3.0"'
         ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
         ' xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">' % A(rec["collector"]),
         '    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">',
         '        <MEDIA_DESCRIPTOR MEDIA_URL=%s MIME_TYPE=%s RELATIVE_MEDIA_URL=%s/>'
         % (A("file:///parlers/corpus/%s.%s" % (stem, ext)), A(MIME[ext]), A("./%s.%s" % (stem, ext))),
         '        <PROPERTY NAME="lastUsedAnnotationId">%d</PROPERTY>' % (2 * n),
         '    </HEADER>', '    <TIME_ORDER>']
    for i, s in enumerate(segs_ms):
        L.append('        <TIME_SLOT TIME_SLOT_ID="ts%d" TIME_VALUE="%d"/>' % (2 * i + 1, s[0]))
        L.append('        <TIME_SLOT TIME_SLOT_ID="ts%d" TIME_VALUE="%d"/>' % (2 * i + 2, s[1]))
    L.append('    </TIME_ORDER>')
    L.append('    <TIER LINGUISTIC_TYPE_REF="transcription" PARTICIPANT=%s ANNOTATOR=%s'
             ' LANG_REF="%s" TIER_ID="transcription">' % (A(main), A(rec["collector"]), LANG))
    for i, s in enumerate(segs_ms):
        L += ['        <ANNOTATION>',
              '            <ALIGNABLE_ANNOTATION ANNOTATION_ID="a%d" TIME_SLOT_REF1="ts%d" TIME_SLOT_REF2="ts%d">'
              % (i + 1, 2 * i + 1, 2 * i + 2),
              '                <ANNOTATION_VALUE>%s</ANNOTATION_VALUE>' % escape(s[2]),
              '            </ALIGNABLE_ANNOTATION>', '        </ANNOTATION>']
    L.append('    </TIER>')
    L.append('    <TIER LINGUISTIC_TYPE_REF="translation" PARENT_REF="transcription" PARTICIPANT=%s'
             ' ANNOTATOR=%s LANG_REF="fra" TIER_ID="traduction">' % (A(main), A(rec["collector"])))
    for i, s in enumerate(segs_ms):
        L += ['        <ANNOTATION>',
              '            <REF_ANNOTATION ANNOTATION_ID="a%d" ANNOTATION_REF="a%d">' % (n + i + 1, i + 1),
              '                <ANNOTATION_VALUE>%s</ANNOTATION_VALUE>' % escape(s[3]),
              '            </REF_ANNOTATION>', '        </ANNOTATION>']
    L.append('    </TIER>')
    L += ['    <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="transcription" TIME_ALIGNABLE="true"/>',
          '    <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" GRAPHIC_REFERENCES="false"'
          ' LINGUISTIC_TYPE_ID="translation" TIME_ALIGNABLE="false"/>',
          '    <LANGUAGE LANG_DEF="http://cdb.iso.org/lg/CDB-00131321-001" LANG_ID="fra" LANG_LABEL="French (fra)"/>',
          '    <LANGUAGE LANG_ID="%s" LANG_LABEL="Norman (%s)"/>' % (LANG, LANG),
          '    <CONSTRAINT DESCRIPTION="Time subdivision of parent annotation\'s time interval, no time gaps allowed within this interval" STEREOTYPE="Time_Subdivision"/>',
          '    <CONSTRAINT DESCRIPTION="Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered" STEREOTYPE="Symbolic_Subdivision"/>',
          '    <CONSTRAINT DESCRIPTION="1-1 association with a parent annotation" STEREOTYPE="Symbolic_Association"/>',
          '    <CONSTRAINT DESCRIPTION="Time alignable annotations within the parent annotation\'s time interval, gaps are allowed" STEREOTYPE="Included_In"/>',
          '</ANNOTATION_DOCUMENT>']
    with open(os.path.join(OUT, stem + ".eaf"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")

# ------------------------------------------------------------- checks -----
def read_segments(path):
    """Segment spans (ms) and texts from our own EAF or TextGrid, to check them against the audio."""
    txt = open(path, encoding="utf-8").read()
    if path.endswith(".eaf"):
        slots = {m.group(1): int(m.group(2))
                 for m in re.finditer(r'TIME_SLOT_ID="(ts\d+)" TIME_VALUE="(\d+)"', txt)}
        return [(slots[a], slots[b]) for a, b in
                re.findall(r'TIME_SLOT_REF1="(ts\d+)" TIME_SLOT_REF2="(ts\d+)"', txt)], None
    xmax = float(re.search(r"^xmax = ([\d.]+)", txt, re.M).group(1))
    tiers = []
    for body in re.split(r"\n    item \[\d+\]:\n", txt)[1:]:
        tiers.append([(round(float(a) * 1000), round(float(b) * 1000), t) for a, b, t in
                      re.findall(r'xmin = ([\d.]+) \n\s+xmax = ([\d.]+) \n\s+text = "((?:[^"]|"")*)"', body)])
    assert len(tiers) == 2, "expected two tiers"
    # both tiers share their spans, and each tier covers 0..xmax without gaps
    assert [(a, b) for a, b, _ in tiers[0]] == [(a, b) for a, b, _ in tiers[1]], "tiers differ"
    for t in tiers:
        assert t[0][0] == 0 and abs(t[-1][1] - xmax * 1000) < 0.5, "tier does not cover 0..xmax"
        assert all(t[i][1] == t[i + 1][0] for i in range(len(t) - 1)), "gap between intervals"
    return [(a, b) for a, b, t in tiers[0] if t], xmax

def decoded_samples(path):
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0",
                        "-ac", "1", "-c:a", "pcm_s16le", "-f", "s16le", "-"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, check=True)
    return len(r.stdout) // 2

def check(rows):
    bad = 0
    for r in rows:
        stem, ext = r["stem"], EXT[r["fmt"]]
        audio = os.path.join(OUT, stem + "." + ext)
        p = probe(audio)
        dur = float(p["format"]["duration"])
        st = p["streams"][0]
        ann = os.path.join(OUT, stem + (".eaf" if r["annot"] == "eaf" else ".TextGrid"))
        spans, xmax = read_segments(ann)
        problems = []
        if int(st["sample_rate"]) != r["rate"]:
            problems.append("rate %s" % st["sample_rate"])
        if int(st["channels"]) != r["channels"]:
            problems.append("channels %s" % st["channels"])
        # ffprobe's duration (for MP3 it counts the encoder delay), and the decoded length:
        # exact for lossless files, at most one codec frame of padding more for lossy ones
        if abs(dur * 1000 - r["duration_ms"]) > 80:
            problems.append("ffprobe duration %.3f s, expected %.3f s" % (dur, r["duration_ms"] / 1000))
        got = decoded_samples(audio)
        want = r["duration_ms"] * r["rate"] // 1000
        slack = 0 if r["fmt"] not in ("mp3", "ogg", "m4a") else 2048
        if not want <= got <= want + slack:
            problems.append("decodes to %d samples, expected %d" % (got, want))
        if not 20 <= dur <= 90:
            problems.append("duration %.1f s outside 20..90 s" % dur)
        if max(b for a, b in spans) > dur * 1000 or max(b for a, b in spans) > r["duration_ms"]:
            problems.append("a segment ends after the audio")
        if xmax is not None and abs(xmax * 1000 - r["duration_ms"]) > 0.5:
            problems.append("TextGrid xmax %.3f" % xmax)
        if len(spans) != len(r["lines"]):
            problems.append("%d segments, expected %d" % (len(spans), len(r["lines"])))
        if r["annot"] == "eaf":
            x = subprocess.run(["xmllint", "--noout", ann], capture_output=True, text=True)
            if x.returncode != 0:
                problems.append("xmllint: " + x.stderr.strip())
        json.load(open(os.path.join(OUT, stem + ".json"), encoding="utf-8"))
        lufs, tp, _ = loudness(audio)
        r.update(probed_s=dur, lufs_got=lufs, tp_got=tp,
                 codec=st["codec_name"], size=os.path.getsize(audio))
        if abs(lufs - r["lufs"]) > 0.5:
            problems.append("loudness %.1f LUFS, wanted %.1f" % (lufs, r["lufs"]))
        if tp > -0.5:
            problems.append("true peak %.1f dBTP" % tp)
        print("%-40s %6.3f s  %6.1f LUFS  %5.1f dBTP  %s" %
              (stem + "." + ext, dur, lufs, tp, "ok" if not problems else "; ".join(problems)))
        bad += bool(problems)
    return bad

# ------------------------------------------------------------- README -----
def write_readme(rows):
    def rate_bits(r):
        bits = dict(wav16="16-bit", wav24="24-bit", wav8="8-bit", wavf32="32-bit float",
                    flac16="16-bit").get(r["fmt"])
        if bits is None:
            bits = dict(mp3="%s kb/s" % BITRATE[r["channels"]], m4a="%s kb/s" % BITRATE[r["channels"]],
                        ogg="Vorbis q3")[r["fmt"]]
        return "%g kHz / %s / %s" % (r["rate"] / 1000, bits, "mono" if r["channels"] == 1 else "stereo")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT)
                if os.path.isfile(os.path.join(OUT, f)))
    L = ["# Sample corpus", "",
         "A small corpus of Norman dialect recordings that `parlers serve` loads by default and that",
         "the tests use. **The voices are synthetic stand-ins made with espeak-ng (French voice, a",
         "different pitch and speed per speaker), not real speakers.** The speakers are fictional, and",
         "the Norman sentences and their French translations were written for this corpus; they are",
         "plausible Cotentinais, Cauchois and Jèrriais, not a linguistic reference. Room tone, tape",
         "hiss and mains hum were added so that the files sound like field recordings.", "",
         "Each recording `NAME.ext` has beside it:", "",
         "- `NAME.json`: the metadata sidecar (title, date, collection, place with coordinates,",
         "  variety, language, collector, rights, access, description, keywords, speakers);",
         "- `NAME.eaf` (ELAN 3.0) or `NAME.TextGrid` (Praat, long text format): two tiers,",
         "  `transcription` (Norman, `nrf`, one segment per sentence) and `traduction` (French, same",
         "  spans). In EAF, `traduction` is a child of `transcription` (Symbolic_Association); in",
         "  TextGrid both are IntervalTiers with empty intervals in the pauses.", "",
         "Segment boundaries are exact: each sentence was synthesised on its own and every boundary",
         "falls on a 20 ms grid, so the times in milliseconds are whole samples at every rate here.",
         "", "## Recordings", "",
         "| file | format | rate / bits / channels | duration | LUFS | place | speaker | variety | access | annotations |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sp = ", ".join(SPEAKERS[k]["name"] + ("" if role == "speaker" else " (%s)" % role)
                       for k, role in r["speakers"])
        L.append("| `%s.%s` | %s | %s | %.1f s | %.1f | %s | %s | %s | %s | %s |" % (
            r["stem"], EXT[r["fmt"]], FORMAT_LABEL[r["fmt"]], rate_bits(r), r["duration_ms"] / 1000,
            r["lufs_got"], PLACES[r["place"]]["commune"], sp, r["variety"], r["access"],
            "EAF" if r["annot"] == "eaf" else "TextGrid"))
    L += ["", "Total size of the folder: %.1f MB." % (total / 1e6), "",
          "Loudness is the EBU R128 integrated loudness measured by ffmpeg's `ebur128` filter; the",
          "spread (−35 to −12 LUFS) is there so that loudness normalisation of the access copies can",
          "be seen and tested. The loudest files went through a compressor and a look-ahead limiter,",
          "as a recorder's automatic level control would, so their true peak stays below −0.5 dBTP;",
          "their room tone is correspondingly higher.", "",
          "Stereo: in `cotentin-1977-les-hitres.m4a` the interviewer is close to the left microphone",
          "and the speaker to the right one; `jersey-1994-au-marchi.ogg` has the voice in both",
          "channels (right 2 dB lower) over independent noise.", "",
          "Durations are the true lengths. ffprobe reports MP3 durations a few tens of ms longer",
          "(it counts the encoder delay that decoders skip), and the AAC decoder may add up to one",
          "frame of padding at the end; no segment reaches into either.", "",
          "## Speakers", "",
          "| name | pseudonym | born | sex | occupation | from | consent |", "|---|---|---|---|---|---|---|"]
    for k, s in SPEAKERS.items():
        L.append("| %s | %s | %d | %s | %s | %s | %s |" % (s["name"], "yes" if s["pseudonym"] else "no",
                 s["birth_year"], s["sex"], s["occupation"], s["origin"], s["consent"]))
    L += ["", "Two collections: *%s* (collector Marie Lecanu) and *%s* (collector Henri Duboc)."
          % (COTENTIN, CAUX), "",
          "Access levels: `jersey-1994-la-maison-et-la-famille` is **restricted** (the speaker reserved",
          "her account of the Occupation for researchers); `cotentin-1994-souvenirs-de-couturiere` is",
          "**private** (the speaker refused any diffusion of her voice); all others are public.", "",
          "Spelling varies between recordings as it does between real transcribers, so that search",
          "can be tested on variants: *mézoun / maisoun / mésoun / mézon / maîson*, *ch'est / ch'tait*,",
          "*byin / bin / bein*, *coume / coumme*, *l'vuus / les vuus / l'vieux*, *d'la*, *mé* (the sea),",
          "*vraic* (seaweed), *bère* (cider), *caumps / camps* (fields), *mauves* (gulls).", "",
          "## Remaking it", "",
          "```sh", "corpus/make-corpus.sh          # rebuild everything in corpus/ (about a minute)",
          "corpus/make-corpus.sh --check  # only check the committed files", "```", "",
          "All the content (speakers, places, sentences, translations, audio settings) lives in",
          "`make-corpus.sh`. It needs python3 (standard library), espeak-ng, sox, ffmpeg with",
          "libmp3lame, libvorbis and aac, and xmllint. The output is deterministic for a given set",
          "of tool versions (seeded sox noise, no dither, bit-exact muxers); the files were made",
          "with %s, %s and %s." % (TOOLS["espeak"], TOOLS["sox"], TOOLS["ffmpeg"]), "",
          "The check verifies that every file probes with ffprobe at the expected rate, channel",
          "count and duration, that every segment ends within the audio, that TextGrid `xmax` is the",
          "duration, that every EAF passes `xmllint --noout`, and that the loudness is on target.", ""]
    with open(os.path.join(OUT, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L))

TOOLS = {}

def main():
    TOOLS["espeak"] = "espeak-ng " + re.search(r"speech: ([\d.]+)",
                                               run("espeak-ng", "--version", capture=True)).group(1)
    TOOLS["sox"] = run("sox", "--version", capture=True).split(": ")[-1].strip()
    TOOLS["ffmpeg"] = " ".join(run("ffmpeg", "-version", capture=True).split()[:3])
    rows = []
    for rec in RECORDINGS:
        r = dict(rec)
        if CHECK_ONLY:
            spans, xmax = read_segments(os.path.join(
                OUT, rec["stem"] + (".eaf" if rec["annot"] == "eaf" else ".TextGrid")))
            # the true length is TextGrid's xmax; without one, take the decoded length down
            # to the 20 ms grid (lossy decoders may add up to a frame of padding)
            n = decoded_samples(os.path.join(OUT, rec["stem"] + "." + EXT[rec["fmt"]]))
            r["duration_ms"] = (round(xmax * 1000) if xmax else
                                n * 1000 // rec["rate"] // QUANTUM_MS * QUANTUM_MS)
        else:
            tmp = tempfile.mkdtemp(prefix="parlers-corpus-")
            try:
                dest, total, segs = make_audio(rec, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            rate = rec["rate"]
            total_ms = ms(total, rate)
            segs_ms = [(ms(a, rate), ms(b, rate), t, f) for a, b, t, f, _ in segs]
            r["duration_ms"] = total_ms
            write_json(rec)
            (write_eaf if rec["annot"] == "eaf" else write_textgrid)(rec, total_ms, segs_ms)
            print("made %s.%s (%.2f s)" % (rec["stem"], EXT[rec["fmt"]], total_ms / 1000), flush=True)
        rows.append(r)
    bad = check(rows)
    if not CHECK_ONLY:
        write_readme(rows)
    print("\nEBU R128 summaries:")
    for r in rows:
        print("--", r["stem"] + "." + EXT[r["fmt"]])
        print(ebur128_table(os.path.join(OUT, r["stem"] + "." + EXT[r["fmt"]])))
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("\ntotal size of corpus/: %.2f MB" % (total / 1e6))
    if bad:
        sys.exit("make-corpus: %d recording(s) failed the checks" % bad)

main()
PY
