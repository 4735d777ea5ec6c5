"""Words that carry feeling but name nothing: shared by the clean stage (praise only, general dissatisfaction) and
the themes stage (labels name problems, never feelings).

Lower case, as customers write them, misspellings included (real CSAT remarks: "gud", "worest", "excelent").
"""

from __future__ import annotations

PRAISE = frozenset(
    "good great nice excellent awesome amazing perfect fine love loved lovely happy satisfied fantastic superb "
    "brilliant best wonderful cool super helpful polite kind friendly quick fast smooth easy gud gd nyc nic gr8 "
    "thanks thank thx ty tq tnx thankyou thanku thnx thnks appreciated appreciate outstanding excelent exellent "
    "awsome osm satisfactory supportive patient courteous 5star achha accha acha acchi achhi achchha badhiya "
    "badiya mast shandar shaandaar zabardast goo goood naic noice nyce vgood awsm osum".split()
)
DISPLEASURE = frozenset(
    "bad worst worest worrest wrost poor pathetic pathethic terrible horrible awful useless waste rubbish "
    "disappointing disappointed disgusting unhappy unsatisfied dissatisfied hate hated nonsense ridiculous "
    "ghatiya bekar bakwas kharab faltu worse".split()
)
# evaluative words common in reviews that say how the customer feels about a thing, not what the thing is
EVALUATIVE = frozenset(
    "cute beautiful gorgeous pretty stunning adorable flattering comfy comfortable favorite favourite wow "
    "glad pleased recommend recommended disappointing meh okay ok fine terrific incredible fabulous fab "
    "lovely elegant classy chic compliments ugly horrible".split()
)
GREETINGS = frozenset(
    "hi hello hey hii hiii helo dear sir madam mam maam ji bhai bro regards cheers please pls plz kindly thanks "
    "thank thx ty".split()
)
INTENSIFIERS = frozenset(
    "very v so soo really too much most extremely totally completely highly ever overall quite just super bahut "
    "bahot bohot bhut".split()
)
# romanised Hindi function words: in real Indian CSAT remarks they otherwise become the keywords of a theme
# ("hai / se / ka") that is grouped by language rather than by problem
HINGLISH_STOP = frozenset(
    "hai hain se ka ki ke ko mein mai nahi nahin nhi na hi bhi aur ho kya ye yeh wo woh ek tha thi the kar karo "
    "kare karna karne kiya diya liya raha rahi rahe hua hui gaya gayi apna apne mera meri mere mujhe muje hum "
    "humne aap aapke aapki ab jab tab par pe koi kuch sab tak bhai ji sir koi liye kiye".split()
)
# words scikit-learn's English stop list holds that name what shops sell and how customers reach them ("thin
# fabric", "top", "call back", "bill", "empty box"): in feedback they are what a theme or an action is about
NAMING_WORDS = frozenset({"amount", "back", "bill", "bottom", "call", "detail", "empty", "fire", "front", "interest",
                          "part", "side", "system", "thick", "thin", "top"})
# romanised Hindi "not", as customers spell it; it follows what it negates ("refund nahi mila", "acchi nahin hai")
HINDI_NEGATIONS = ("nahi", "nhi", "nahin", "nai", "nehi")
# what follows "solve" / "resolve" in romanised Hindi when it is done ("solve kar diya", "resolve kiya", "solve ho
# gaya": solved); "solve kar do" and "solve karo" ask for it (a regular-expression fragment)
HINDI_DONE = (r"(?:(?:kar|kr)\s*)?(?:diya|diye|dia|di|kiya|kiye|kia|ki|kri|kari|kardi|krdi|kardiya|krdiya)|"
              r"(?:ho\s*)?(?:gaya|gaye|gayi|gya|gye|gyi)|hua|hui|huaa")
# what makes "refund not received" the opposite of "refund received", as words are split on anything not a letter
# ("didn't" -> "didn", "t")
NEGATIONS = frozenset({"not", "no", "never", "nor", "cannot", "cant", "without", "none", "nothing", "nobody",
                       "don", "didn", "doesn", "isn", "wasn", "aren", "won", "haven", "hasn", "couldn", "wouldn",
                       "dont", "didnt", "doesnt", "isnt", "wasnt", "wont", "havent", "hasnt", *HINDI_NEGATIONS})

FEELING = PRAISE | DISPLEASURE | EVALUATIVE | GREETINGS | INTENSIFIERS  # a label made only of these names nothing
