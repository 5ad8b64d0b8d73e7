"""The data ``names`` reads: how people introduce themselves, what is not a name, where names are collected.

Data only, in one place, so that a language or a field naming is added here and nowhere else.

- ``INTRODUCTIONS``: the phrasings that precede (``prefix``) and sometimes follow (``suffix``) a
  name, per language (ISO 639-1), for the languages ElevenLabs agents speak. ``ambiguous`` marks a
  phrasing that is as often followed by other words ("I'm fine", "soy de Madrid", "ich bin müde"):
  there only a capitalised word in a script with case counts, never a word in a script without case.
  A suffix is required when given: the words between prefix and suffix must all be the name.
  ``presents`` marks a phrasing that presents someone as often as it introduces the speaker ("this
  is Rex, he's so lovable", "it's Rex", "Rex here"): it names the caller only when it opens the
  caller's sentence (nothing before it but ``SENTENCE_OPENERS`` and whom they greet: "Hello Ada, it's
  …") and nothing after the name turns to someone else (``THIRD_PERSON``: "he's…", "she is…"; an
  apposition of ``OTHERS``: ", my dog", ", my daughter."). ``or_clause_end``: the end of the clause
  may close the name instead of a suffix ("Hi, it's Priyanka."). Without a prefix, in a spaced
  script, the name is the words that open the clause before the suffix ("Priyanka here"), and the
  suffix must end the clause or be followed by one of ``NAME_CLOSERS``.
- ``STOP_WORDS``: per language, words that follow those phrasings without being a name (casefolded);
  for Chinese, characters that cannot begin a name after 我叫.
- ``OTHERS_NAME_QUESTIONS``: how an agent asks for someone else's name ("what's your dog's
  name?"): the caller's answer presents that one, so presenting phrasings in it name nobody.
- ``PLACEHOLDER_NAMES``: values a form or a ``caller_name`` dynamic variable holds when nobody
  is named (an agent's default of "there" makes "Hi {{caller_name}}" read "Hi there").
- Field names are compared normalised (``names.field_key``: camelCase split, lowercased, any run of
  separators one space): ``FULL_NAME_FIELDS`` in order of preference, then ``FIRST_NAME_FIELDS``
  (combined with ``LAST_NAME_FIELDS`` when both are there, first then last).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Introduction:
    language: str
    prefix: str  # "" when only a suffix marks the name (Japanese "…と申します")
    suffix: tuple[str, ...] = ()
    ambiguous: bool = False
    presents: bool = False
    or_clause_end: bool = False


def _intros(
    language: str, *prefixes: str, ambiguous: bool = False, presents: bool = False
) -> tuple[Introduction, ...]:
    return tuple(
        Introduction(language, prefix, ambiguous=ambiguous, presents=presents) for prefix in prefixes
    )


INTRODUCTIONS: tuple[Introduction, ...] = (
    # English; "user name is" and "caller name:" are how our own factual memories say it.
    *_intros("en", "my name is", "my name's", "user name is", "user's name is", "caller name:"),
    *_intros("en", "i'm", "i am", "call me", ambiguous=True),
    Introduction("en", "this is", ambiguous=True, presents=True),
    # A telephone's "it's Priyanka", "Priyanka here", "Priyanka speaking": the end of the clause or one
    # of the suffixes closes the name ("it's Biscuit who is ill" names nobody).
    Introduction(
        "en",
        "it's",
        suffix=("here", "again", "speaking", "calling", "from", "and"),
        ambiguous=True,
        presents=True,
        or_clause_end=True,
    ),
    Introduction("en", "", suffix=("here",), ambiguous=True, presents=True),
    Introduction("en", "", suffix=("speaking",), ambiguous=True, presents=True),
    *_intros("es", "me llamo", "mi nombre es"),
    *_intros("es", "soy", ambiguous=True),
    *_intros("fr", "je m'appelle", "mon nom est", "mon prénom est"),
    *_intros("fr", "je suis", "moi c'est", ambiguous=True),
    Introduction("fr", "c'est", ambiguous=True, presents=True, or_clause_end=True),
    *_intros("de", "ich heiße", "ich heisse", "mein name ist", "mein vorname ist"),
    *_intros("de", "ich bin", ambiguous=True),
    *_intros("de", "hier spricht", "hier ist", ambiguous=True, presents=True),
    *_intros("it", "mi chiamo", "il mio nome è", "il mio nome e'"),
    *_intros("it", "sono", ambiguous=True),
    *_intros("pt", "meu nome é", "me chamo", "chamo-me"),
    *_intros("pt", "eu sou", ambiguous=True),
    *_intros("nl", "ik heet", "mijn naam is"),
    *_intros("nl", "ik ben", ambiguous=True),
    *_intros("pl", "nazywam się", "mam na imię", "moje imię to"),
    *_intros("pl", "jestem", ambiguous=True),
    *_intros("tr", "benim adım", "ismim", "benim ismim"),
    *_intros("tr", "adım", ambiguous=True),
    *_intros("ru", "меня зовут", "моё имя", "мое имя"),
    *_intros("uk", "мене звати", "моє ім'я"),
    *_intros("el", "με λένε", "λέγομαι", "το όνομά μου είναι"),
    *_intros("cs", "jmenuji se", "jmenuju se"),
    *_intros("ro", "mă numesc", "numele meu este"),
    *_intros("hu", "a nevem"),
    *_intros("sv", "jag heter"),
    *_intros("no", "jeg heter"),
    *_intros("da", "jeg hedder"),
    *_intros("fi", "nimeni on"),
    *_intros("vi", "tên tôi là"),
    *_intros("id", "nama saya"),
    *_intros("fil", "ang pangalan ko ay"),
    *_intros("ar", "اسمي هو", "اسمي"),
    *_intros("he", "שמי", "קוראים לי"),
    Introduction("hi", "मेरा नाम", suffix=("है",)),
    *_intros("zh", "我叫", "我的名字是", "我的名字叫"),
    Introduction("ja", "私の名前は", suffix=("です",)),
    Introduction("ja", "わたしの名前は", suffix=("です",)),
    Introduction("ja", "", suffix=("と申します", "といいます")),
    Introduction("ko", "제 이름은", suffix=("입니다", "이에요", "예요")),
)

_EN_STOP = """
    a an the that this these those it its what whatever who someone somebody nobody anyone everyone
    i you he she we they me him us them my your his her our their mine yours
    and or but so if when then than as at on in to of for from with about by into over out up
    not no yes just still also actually really very quite too only even please
    is was be been being are am do did does have has had would could should
    fine good great ok okay well sorry sure glad happy busy tired sick ill afraid ready free done
    here there back home away calling ringing phoning looking trying going coming waiting speaking
    interested worried confused lost new single married retired available
    later again now soon today tomorrow tonight anytime whenever maybe next last
    monday tuesday wednesday thursday friday saturday sunday
    english american british canadian australian irish scottish
    mr mrs ms miss dr doctor sir madam maam ma'am spelled spelt pronounced written
    hello hi hey one unknown none null
"""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    language: _words(words)
    for language, words in {
        "en": _EN_STOP,
        "es": """de del desde en el la los las un una muy yo tú tu su mi bien mal aquí aqui allí
            nuevo nueva cliente paciente médico medico señor señora senor senora español española
            que y o no sí si estoy llamando casado casada estudiante feliz contento contenta""",
        "fr": """désolé désolée desole content contente ici là la le les de du des en un une très
            bien pas client cliente nouveau nouvelle monsieur madame mademoiselle docteur français
            française je tu il elle moi toi ça sûr sûre prêt prête fatigué fatiguée malade et""",
        "de": """müde muede hier da sehr nicht gut der die das dem den ein eine einer kunde kundin
            patient patientin student studentin lehrer lehrerin arzt ärztin deutscher deutsche
            rentner rentnerin neu neue herr frau doktor sie dich euch ihn es ich du er wir ihr
            willkommen auch schon noch gerade froh krank fertig zuhause dran am im und""",
        "it": """di da qui qua io molto bene male contento contenta stanco stanca il lo la un una
            cliente nuovo nuova signor signore signora dottore dottoressa italiano italiana in a
            sicuro sicura pronto pronta stato stata e""",
        "pt": """de da do muito bem aqui o a um uma cliente novo nova senhor senhora doutor
            brasileiro brasileira português portuguesa eu você em casado casada e""",
        "nl": """hier niet de het een blij moe klant nieuw meneer mevrouw dokter ook al heel erg
            goed van uit in en""",
        "pl": "tu tutaj nie pan pani z w bardzo już i",
        "tr": "ne bir çok bu şu o adım ve",
        "ru": "не я это и",
        "uk": "не я це і",
        "ar": """هو هي أنا انا و من في عن على أتصل اتصل أتكلم اتكلم أريد اريد أود بخصوص بشأن حول
            لأن لان""",
        "he": "הוא היא אני",
        "zh": "了 你 他 她 它 我 们 的 什 这 那 是 不 也 在 人 一",
    }.items()
}

# Words that may open a sentence before a presenting phrasing ("Hi, it's…", "Yes, this is…",
# "Good morning, Priyanka here"), in any language: greetings, answers and fillers (casefolded).
SENTENCE_OPENERS = _words("""
    hi hello hey hiya howdy yes yeah yep yup no oh ah ahh ok okay so well um uhm uh er erm hmm right
    alright sorry good morning afternoon evening day there
    hola buenas buenos días dias tardes noches sí
    bonjour bonsoir salut allô allo oui
    hallo guten tag morgen abend ja servus moin
    ciao buongiorno buonasera pronto olá ola bom boa dia tarde noite
""")

# After a presented name, words that turn to someone else: "this is Rex, he's so lovable".
# Per language, each read with English's (callers switch mid-sentence); apostrophes as "'".
THIRD_PERSON: dict[str, frozenset[str]] = {
    "en": _words("he she they he's she's they're he'll she'll his her their him them"),
    "fr": _words("il elle ils elles"),
    "de": _words("er"),
}
# "It" alone says too little: "this is Margaret, it's about my dog" is the caller. It turns to someone
# else only when what it is is one of ``OTHERS`` ("it's my dog", "that's my husband").
POINTING_WORDS = _words("it it's its that that's")
DETERMINERS = _words("my our the a an his her their your")
# Who or what a caller presents besides themselves: "this is Rex, my dog", "this is Anna, my daughter".
OTHERS = _words("""
    dog dogs puppy pup cat cats kitten kitty pet pets bird parrot budgie rabbit bunny hamster guinea
    pig horse pony tortoise turtle fish snake lizard ferret
    husband wife partner spouse son daughter kid kids child children baby boy girl twins mother mom
    mum mommy mummy mother-in-law father dad daddy father-in-law parents brother sister sibling
    grandson granddaughter grandchild grandmother grandma granny nan nana grandfather grandpa
    grandad granddad aunt auntie uncle nephew niece cousin boyfriend girlfriend fiance fiancé fiancée
    friend colleague boss neighbour neighbor carer caregiver roommate flatmate tenant landlord
    landlady assistant
""")
# Words after "Priyanka here" / "Priyanka speaking" that keep the name the caller's; anything else
# ("Rex here is my dog") leaves it unnamed.
NAME_CLOSERS = _words("again calling ringing phoning from speaking here")
# The agent asking for someone else's name (English): the caller's answer presents that one.
OTHERS_NAME_QUESTIONS = (
    r"\b\w+['’]s\s+(?:full\s+|first\s+|last\s+)?name\b",  # "your dog's name", "your husband's name"
    r"\b(?:his|her|their|its)\s+(?:full\s+|first\s+|last\s+)?name\b",
    r"\bname\s+of\s+(?:your|his|her|their)\b",  # "the name of your dog"
)

# Letters some languages glue to the next word as "and"/"so" (Arabic و, ف): a stop word behind one
# is still a stop word.
ATTACHED_CONJUNCTIONS = frozenset("وف")

PLACEHOLDER_NAMES = frozenset(
    {
        "",
        "there",
        "unknown",
        "none",
        "null",
        "nil",
        "undefined",
        "n/a",
        "na",
        "-",
        "not provided",
        "not given",
        "not mentioned",
        "not specified",
        "not available",
        "no name",
        "anonymous",
        "caller",
        "unknown caller",
        "customer",
        "valued customer",
        "client",
        "user",
        "guest",
        "friend",
        "sir",
        "madam",
        "desconocido",
        "inconnu",
        "unbekannt",
        "sconosciuto",
        "desconhecido",
        "onbekend",
        "неизвестно",
        "未知",
    }
)

# Lowercase particles inside a collected name stay lowercase when the rest is capitalised.
NAME_PARTICLES = _words("de del della di da do dos das du van von der den la le y e bin ibn al ter zu")

# Bounds past which a "name" is taken to be something else.
MAX_NAME_WORDS = 4
MAX_NAME_CHARS = 60
# A name in Chinese characters not closed by a suffix (我叫李小龙…): Chinese names have two to four
# characters, and a longer run without a space holds the rest of the sentence.
MAX_HAN_NAME_CHARS = 4

FULL_NAME_FIELDS = (
    "preferred name",
    "caller name",
    "caller full name",
    "full name",
    "fullname",
    "name",
    "customer name",
    "customer full name",
    "client name",
    "contact name",
    "patient name",
    "user name",
    "user full name",
    "your name",
    "nombre",
    "nombre completo",
    "nom complet",
    "nome completo",
)
FIRST_NAME_FIELDS = (
    "first name",
    "firstname",
    "given name",
    "givenname",
    "forename",
    "caller first name",
    "customer first name",
    "user first name",
    "patient first name",
    "nombre de pila",
    "prénom",
    "prenom",
    "vorname",
    "nome",
)
LAST_NAME_FIELDS = (
    "last name",
    "lastname",
    "surname",
    "family name",
    "familyname",
    "caller last name",
    "customer last name",
    "user last name",
    "patient last name",
    "apellido",
    "apellidos",
    "nom de famille",
    "nachname",
    "cognome",
)
